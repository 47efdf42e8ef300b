import { createHmac, hkdfSync } from "node:crypto";
import type { Keyring } from "../core/keyring.js";
import type { ImportRecord } from "../token-files/import-record.js";

/**
 * The stable import reference of an imported factor (issue 17): what makes running the same file twice create
 * nothing the second time. The source's own serial or id when it has one; otherwise a keyed HMAC-SHA256 of the
 * record's user, type and secret. Never an unkeyed hash of a secret: a SHA-256 of an 80-bit secret stored beside
 * the factor would let anyone who reads the database search the secret offline without the master key (R-ST-1).
 *
 * The HMAC key is derived (HKDF-SHA256, RFC 5869, its own info string) from the active master key's one-time-code
 * MAC key, itself an HKDF output of the master key: independent of the envelope keys and of the code MAC key. After a
 * master-key rotation a re-run computes other references for serial-less records; the users then already have
 * their factors, so they are skipped as user_has_factor instead of already_imported: still nothing is created.
 */

const refKeys = new WeakMap<Keyring, Uint8Array>();

function refKey(keyring: Keyring): Uint8Array {
	let key = refKeys.get(keyring);
	if (key === undefined) {
		key = new Uint8Array(hkdfSync("sha256", keyring.codeMacKey, new Uint8Array(0), "twofold import-ref hmac v1", 32));
		refKeys.set(keyring, key);
	}
	return key;
}

/** Serials longer than this are not a serial anyone typed: refused as a record problem. */
export const MAX_SERIAL_LENGTH = 256;

export function importRef(keyring: Keyring, record: Pick<ImportRecord, "serial" | "userId" | "type" | "secret">): string {
	if (record.serial !== undefined && record.serial.length > 0) return `serial:${record.serial}`;
	const mac = createHmac("sha256", refKey(keyring));
	// Length-prefixed fields: ("ab", "c") and ("a", "bc") must not collide.
	mac.update(JSON.stringify(["import-ref v1", record.userId, record.type, record.secret.byteLength]));
	mac.update(record.secret);
	return `hmac:${mac.digest("base64url")}`;
}
