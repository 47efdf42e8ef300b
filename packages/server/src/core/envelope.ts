import { createCipheriv, createDecipheriv } from "node:crypto";
import type { Keyring } from "./keyring.js";
import type { RandomReader } from "./random.js";

/**
 * Sealed secrets: "v1.<key id>.<nonce>.<ciphertext+tag>" (base64url parts).
 * AES-256-GCM (ASVS5 11.3.3) with a fresh 96-bit random nonce per seal, and
 * associated data naming the row the secret belongs to, so a ciphertext
 * copied to another row fails to open (R-ST-2; Supabase binds rows the same way).
 */
const VERSION = "v1";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class EnvelopeError extends Error {
	override readonly name = "EnvelopeError";
}

function associatedBytes(associatedData: string): Buffer {
	return Buffer.from(`twofold/${VERSION}/${associatedData}`, "utf8");
}

export function sealSecret(options: {
	keyring: Keyring;
	plaintext: Uint8Array;
	associatedData: string;
	random: RandomReader;
}): string {
	const key = options.keyring.keys.get(options.keyring.activeKeyId);
	if (key === undefined) throw new TypeError("the active key is missing from the key ring");
	const nonce = options.random(NONCE_BYTES);
	const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
	cipher.setAAD(associatedBytes(options.associatedData));
	const sealed = Buffer.concat([cipher.update(options.plaintext), cipher.final(), cipher.getAuthTag()]);
	return [VERSION, options.keyring.activeKeyId, Buffer.from(nonce).toString("base64url"), sealed.toString("base64url")].join(".");
}

/**
 * Rotation (R-ST-3): the same secret sealed again under the key ring's active key, for the same row;
 * null when it is sealed under the active key already.
 */
export function resealSecret(keyring: Keyring, envelope: string, associatedData: string, random: RandomReader): string | null {
	if (envelopeKeyId(envelope) === keyring.activeKeyId) return null;
	const plaintext = openSecret(keyring, envelope, associatedData);
	try {
		return sealSecret({ keyring, plaintext, associatedData, random });
	} finally {
		plaintext.fill(0);
	}
}

/** Throws EnvelopeError when the envelope is malformed, its key is unknown, or it was not sealed for this row. */
export function openSecret(keyring: Keyring, envelope: string, associatedData: string): Uint8Array {
	const parts = envelope.split(".");
	if (parts.length !== 4 || parts[0] !== VERSION) throw new EnvelopeError("unknown envelope format");
	const key = keyring.keys.get(parts[1]!);
	if (key === undefined) throw new EnvelopeError("envelope sealed under a key that is not in the key ring");
	const nonce = Buffer.from(parts[2]!, "base64url");
	const sealed = Buffer.from(parts[3]!, "base64url");
	if (nonce.byteLength !== NONCE_BYTES || sealed.byteLength < TAG_BYTES) throw new EnvelopeError("truncated envelope");
	const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
	decipher.setAAD(associatedBytes(associatedData));
	decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_BYTES));
	try {
		return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(0, sealed.byteLength - TAG_BYTES)), decipher.final()]));
	} catch {
		throw new EnvelopeError("envelope failed authentication");
	}
}

/** The key id an envelope was sealed under (for rotation reports), or null if malformed. */
export function envelopeKeyId(envelope: string): string | null {
	const parts = envelope.split(".");
	return parts.length === 4 && parts[0] === VERSION ? parts[1]! : null;
}
