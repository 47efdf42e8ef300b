import type { AttestationTrust } from "../factors/webauthn/attestation.js";
import type { Mailer } from "../mail/mailer.js";
import type { KeyDeps, SigningKeys } from "./signing-keys.js";

/**
 * What a service tells the operator and not the client (pino's call shape: fields, then the message). Fields are ids,
 * reasons and counts, never a secret, a code or a request body (R-ST-4).
 */
export interface ServiceLog {
	info(fields: Record<string, unknown>, message: string): void;
	warn(fields: Record<string, unknown>, message: string): void;
}

/** Everything a service needs, passed down explicitly (no container): KeyDeps (store, keyring, clock, random) and the rest. */
export interface ServiceDeps extends KeyDeps {
	/** The `iss` of assertions: TWOFOLD_PUBLIC_URL, or the address the server listens at. */
	issuer(): string;
	signingKeys: SigningKeys;
	/** Calls Twofold makes on its own: only to operator-configured destinations (privacy, SSRF). */
	outbound: { allowPrivateWebhooks: boolean };
	/** Null unless the operator configured SMTP. */
	mailer: Mailer | null;
	/** False while this node's clock is too far from the database's (D-7): time-based codes are then not checked. */
	clockTrusted(): boolean;
	/** WebAuthn attestation trust anchors (V-15); undefined or empty: attestation "direct" is refused. */
	attestationTrust?: AttestationTrust;
	/** The HTTP server's logger once it is built (app.ts); undefined or silent for the CLI, whose commands run no ceremony. */
	log?: ServiceLog;
}
