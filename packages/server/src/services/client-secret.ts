import { openSecret, sealSecret } from "../core/envelope.js";
import type { KeyDeps } from "./signing-keys.js";

/**
 * A client secret at rest (issue 15, R-ST-1/2): oidc-provider compares the presented secret with the registered one
 * itself, so the secret is sealed under the master key rather than hashed, and the envelope is bound to its tenant
 * and client: moved to another row, it does not open.
 */
export const clientSecretData = (row: { tenant_id: string; id: string }): string => JSON.stringify(["client-secret", row.tenant_id, row.id]);

export function sealClientSecret(deps: KeyDeps, row: { tenant_id: string; id: string }, secret: string): string {
	return sealSecret({ keyring: deps.keyring, plaintext: Buffer.from(secret, "utf8"), associatedData: clientSecretData(row), random: deps.random });
}

export function openClientSecret(deps: KeyDeps, row: { tenant_id: string; id: string }, envelope: string): string {
	return Buffer.from(openSecret(deps.keyring, envelope, clientSecretData(row))).toString("utf8");
}
