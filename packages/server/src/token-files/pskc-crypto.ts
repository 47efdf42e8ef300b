import { createDecipheriv, createHmac, pbkdf2 } from "node:crypto";
import { promisify } from "node:util";
import { constantTimeEqual } from "../core/constant-time.js";

/**
 * The cryptography of PSKC (RFC 6030 §6): AES-CBC with the IV prepended to the ciphertext (§6.1, XML Encryption's
 * aes128-cbc, and its 192/256-bit siblings), an HMAC over IV || ciphertext (§6.1.1, the MAC of every encrypted
 * value), and PBKDF2 (PKCS #5 v2.0) for password-based keys (§6.2). Nothing here logs or keeps a key; callers zero
 * what they are given back once used.
 *
 * Algorithms are named by XML URIs whose namespace part varies between writers (xmlenc#, xmldsig#,
 * xmldsig-more#, or none in privacyIDEA's lower-cased output), so they are matched on the fragment after '#'.
 */

const pbkdf2Async = promisify(pbkdf2);

function fragment(uri: string | undefined): string | undefined {
	if (uri === undefined) return undefined;
	const trimmed = uri.trim().toLowerCase();
	const hash = trimmed.lastIndexOf("#");
	return hash === -1 ? trimmed : trimmed.slice(hash + 1);
}

export interface CBCCipher {
	/** node:crypto's name. */
	name: "aes-128-cbc" | "aes-192-cbc" | "aes-256-cbc";
	keyLength: 16 | 24 | 32;
}

const CBC: Record<string, CBCCipher> = {
	"aes128-cbc": { name: "aes-128-cbc", keyLength: 16 },
	"aes192-cbc": { name: "aes-192-cbc", keyLength: 24 },
	"aes256-cbc": { name: "aes-256-cbc", keyLength: 32 },
};

/** The CBC cipher an EncryptionMethod's Algorithm names, or undefined (key wrap, RSA, Camellia, 3DES: not supported). */
export function cbcCipher(algorithm: string | undefined): CBCCipher | undefined {
	const name = fragment(algorithm);
	return name === undefined ? undefined : CBC[name];
}

export type HMACHash = "sha1" | "sha224" | "sha256" | "sha384" | "sha512";

const HMAC: Record<string, HMACHash> = {
	"hmac-sha1": "sha1",
	"hmac-sha224": "sha224",
	"hmac-sha256": "sha256",
	"hmac-sha384": "sha384",
	"hmac-sha512": "sha512",
};

/** The hash of an HMAC algorithm URI (MACMethod, or a PBKDF2 PRF), or undefined when it is not an HMAC we know. */
export function hmacHash(algorithm: string | undefined): HMACHash | undefined {
	const name = fragment(algorithm);
	return name === undefined ? undefined : HMAC[name];
}

/**
 * RFC 6030 §6.1.1: the ValueMAC is the HMAC, keyed with the MAC key, of the whole CipherValue (IV || ciphertext).
 * Compared in constant time (R-OTP-10, V-14), and always before the value is decrypted.
 */
export function macMatches(hash: HMACHash, macKey: Uint8Array, cipherValue: Uint8Array, expected: Uint8Array): boolean {
	const actual = createHmac(hash, macKey).update(cipherValue).digest();
	try {
		return constantTimeEqual(actual, expected);
	} finally {
		actual.fill(0);
	}
}

/**
 * AES-CBC decryption of IV || ciphertext with PKCS #7 padding (XML Encryption §5.2). Returns null when the input is
 * not whole blocks or the padding is wrong; the caller does not tell those apart from a wrong key (no padding oracle).
 */
export function decryptCBC(cipher: CBCCipher, key: Uint8Array, cipherValue: Uint8Array): Buffer | null {
	if (key.byteLength !== cipher.keyLength) return null;
	if (cipherValue.byteLength < 32 || cipherValue.byteLength % 16 !== 0) return null;
	const iv = cipherValue.subarray(0, 16);
	const decipher = createDecipheriv(cipher.name, key, iv);
	const parts: Buffer[] = [];
	try {
		parts.push(decipher.update(cipherValue.subarray(16)));
		parts.push(decipher.final());
		return Buffer.concat(parts);
	} catch {
		return null;
	} finally {
		for (const part of parts) part.fill(0);
	}
}

/** PBKDF2 parameters as RFC 6030 §6.2 carries them in <DerivedKey> (PKCS #5 v2.0 XML schema). */
export interface PBKDF2Parameters {
	salt: Uint8Array;
	iterations: number;
	keyLength: number;
	/** The PRF; PKCS #5 v2.0's default is HMAC-SHA1 (RFC 6030 Figure 7 leaves <PRF/> empty). */
	hash: HMACHash;
}

/**
 * Upper bound on PBKDF2 iterations read from a file: a file naming 2^31 iterations would hold the import for hours.
 * Ten million is over ten times OWASP's 2023 figure for PBKDF2-HMAC-SHA256 (600,000).
 */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;

/** Derives the file's encryption key from the passphrase (UTF-8), off the event loop. */
export async function derivePBKDF2(passphrase: string, parameters: PBKDF2Parameters): Promise<Buffer> {
	const password = Buffer.from(passphrase, "utf8");
	try {
		return await pbkdf2Async(password, parameters.salt, parameters.iterations, parameters.keyLength, parameters.hash);
	} finally {
		password.fill(0);
	}
}

/** Strict standard base64 (XML Schema base64Binary): whitespace is allowed between characters, nothing else. */
export function decodeBase64(text: string): Buffer | null {
	const compact = text.replace(/[ \t\r\n]+/g, "");
	if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(compact)) return null;
	return Buffer.from(compact, "base64");
}
