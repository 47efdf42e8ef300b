import { createHash, hkdfSync } from "node:crypto";

/**
 * The key ring: data keys derived from one or more 32-byte master keys (KEKs
 * held outside the database, R-ST-1). The first master key is active for
 * sealing; the others only open old envelopes, which is what rotation needs (R-ST-3).
 */
export interface Keyring {
	readonly activeKeyId: string;
	readonly keys: ReadonlyMap<string, Uint8Array>;
	/** HMAC key for one-time codes kept only as hashes (email codes, R-EM-4), from the active master key. */
	readonly codeMacKey: Uint8Array;
	/** The same key from every master key, active first: a code sent before a rotation still checks after it. */
	readonly codeMacKeys: readonly Uint8Array[];
}

export const MASTER_KEY_BYTES = 32;

/** A public, stable id for a master key: a truncated hash, so the envelope names its key without trial decryption. */
export function masterKeyId(masterKey: Uint8Array): string {
	return createHash("sha256").update("twofold key id v1\0").update(masterKey).digest("hex").slice(0, 12);
}

/** HKDF-SHA256 (RFC 5869) separates the envelope key from any other use of the master key. */
function deriveEnvelopeKey(masterKey: Uint8Array): Uint8Array {
	return new Uint8Array(hkdfSync("sha256", masterKey, new Uint8Array(0), "twofold envelope aes-256-gcm v1", 32));
}

export function createKeyring(masterKeys: readonly Uint8Array[]): Keyring {
	const [active] = masterKeys;
	if (active === undefined) throw new TypeError("a key ring needs at least one master key");
	const keys = new Map<string, Uint8Array>();
	for (const masterKey of masterKeys) {
		if (masterKey.byteLength !== MASTER_KEY_BYTES) throw new TypeError("master keys are 32 bytes");
		keys.set(masterKeyId(masterKey), deriveEnvelopeKey(masterKey));
	}
	// Another HKDF info string: the MAC key and the envelope keys are independent (RFC 5869 §3.2).
	const codeMacKeys = masterKeys.map((masterKey) => new Uint8Array(hkdfSync("sha256", masterKey, new Uint8Array(0), "twofold one-time-code hmac v1", 32)));
	return { activeKeyId: masterKeyId(active), keys, codeMacKey: codeMacKeys[0]!, codeMacKeys };
}
