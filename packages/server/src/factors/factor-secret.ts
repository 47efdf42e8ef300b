import { openSecret, sealSecret } from "../core/envelope.js";
import type { Keyring } from "../core/keyring.js";
import type { RandomReader } from "../core/random.js";

/** R-ST-2: a factor's secret is bound to its tenant, user and factor id. */
export function factorAssociatedData(row: { tenant_id: string; user_id: string; id: string }): string {
	return JSON.stringify(["factor-secret", row.tenant_id, row.user_id, row.id]);
}

export function sealFactorSecret(
	keyring: Keyring,
	random: RandomReader,
	row: { tenant_id: string; user_id: string; id: string },
	secret: Uint8Array,
): string {
	return sealSecret({ keyring, plaintext: secret, associatedData: factorAssociatedData(row), random });
}

export function openFactorSecret(keyring: Keyring, row: { tenant_id: string; user_id: string; id: string }, envelope: string): Uint8Array {
	return openSecret(keyring, envelope, factorAssociatedData(row));
}
