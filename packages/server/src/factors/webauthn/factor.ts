import { ServiceError } from "../../contract/service-error.js";
import type { WebAuthnCredentialTable } from "../../store/tables.js";
import type { FactorKind } from "../factor-kind.js";
import type { ProofEnv } from "../proof-kind.js";
import { hasTrustAnchors } from "./attestation.js";
import { CEREMONY_TIMEOUT_MS, registrationOptions, relyingParty, type RelyingParty } from "./ceremony.js";
import { credentialHints, newChallenge } from "./challenge.js";
import { prepareRegistration, webauthnRegistration } from "./registration.js";

/** The AAGUID is the authenticator's own claim unless attestation is "verified" (its chain reached a configured root). */
export interface WebAuthnFactorFacts {
	aaguid: string;
	attestation: "verified" | "none";
	model: string | null;
}

export const webauthnFacts = (credential: Pick<WebAuthnCredentialTable, "aaguid" | "attested" | "model">): WebAuthnFactorFacts => ({
	aaguid: credential.aaguid,
	attestation: credential.attested === 1 ? "verified" : "none",
	model: credential.model,
});

export function requireRelyingParty(env: Pick<ProofEnv, "settings">): RelyingParty {
	const rp = relyingParty(env.settings.webauthn);
	if (rp === null) throw new ServiceError("webauthn_not_configured");
	return rp;
}

/**
 * A WebAuthn factor (passkey or security key): enrolled with creation options for the browser and a
 * registration challenge, confirmed by the registration response (factors/webauthn/registration.ts).
 */
export const webauthnFactor = {
	type: "webauthn",
	available(env) {
		const rp = requireRelyingParty(env);
		// "direct" on a node without trust anchors (the operator removed them since): refused before the user is asked for a key.
		if (rp.attestation === "direct" && !hasTrustAnchors(env.attestationTrust)) throw new ServiceError("attestation_not_configured");
	},
	async confirmation(env, factor, input) {
		const prepared = await prepareRegistration(env, requireRelyingParty(env), factor, input.credential);
		return [{ kind: webauthnRegistration, presented: { factor }, prepared }];
	},
	async enroll(env, input) {
		const rp = requireRelyingParty(env);
		const label = input.label ?? "Security key";
		// A random handle per registration: the authenticator never learns the application's user id.
		const userHandle = env.random(32);
		const { bytes, row: challenge } = newChallenge(env.random, env, env.now, {
			ceremony: "registration",
			factor_id: env.factorId,
			user_handle: Buffer.from(userHandle).toString("base64url"),
		});
		const existing = await env.store.webauthnCredentials.listForUser(env.tenantId, env.userId);
		const options = await registrationOptions(rp, { challenge: bytes, userHandle, userName: label, exclude: credentialHints(existing) });
		return {
			columns: {
				label,
				secret_envelope: null,
				algorithm: null,
				digits: null,
				period: null,
				last_used_step: -1,
				// The ceremony's own limit, not the TOTP one: the challenge dies with it.
				expires_at: env.now + CEREMONY_TIMEOUT_MS,
			},
			answer: { webauthn: { options } },
			inTransaction: async (tx) => {
				await tx.challenges.deleteStale(env.tenantId, env.userId, env.now);
				await tx.challenges.insert(challenge);
			},
		};
	},
	async facts(store, tenantId, userId) {
		const credentials = await store.webauthnCredentials.listForUser(tenantId, userId);
		return new Map(credentials.map((credential) => [credential.factor_id, { ...webauthnFacts(credential) }]));
	},
} satisfies FactorKind<{ label?: string }, { webauthn: { options: unknown } }>;
