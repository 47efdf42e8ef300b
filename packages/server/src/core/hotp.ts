import { createHmac, type KeyObject } from "node:crypto";

export type HashAlgorithm = "SHA1" | "SHA256" | "SHA512";

const NODE_HASH: Record<HashAlgorithm, string> = { SHA1: "sha1", SHA256: "sha256", SHA512: "sha512" };

/**
 * RFC 4226 §5.3 dynamic truncation: the low 4 bits of the last byte pick an
 * offset; the 31-bit big-endian integer there (sign bit masked) is returned.
 */
export function dynamicTruncate(mac: Uint8Array): number {
	const offset = mac[mac.length - 1]! & 0x0f;
	return (
		((mac[offset]! & 0x7f) * 0x1000000) +
		(mac[offset + 1]! << 16) +
		(mac[offset + 2]! << 8) +
		mac[offset + 3]!
	);
}

/** HMAC over the counter as 8 bytes big-endian (RFC 4226 §5.2; RFC 6238 §4.2 needs > 32 bits). */
export function hotpMAC(key: Uint8Array | KeyObject, counter: bigint, algorithm: HashAlgorithm): Uint8Array {
	if (counter < 0n || counter > 0xffffffffffffffffn) throw new TypeError("HOTP counter out of range");
	const message = Buffer.alloc(8);
	message.writeBigUInt64BE(counter);
	// The key goes in as given: no padding or repetition to the digest length (V-16, otplib 11 bug).
	return createHmac(NODE_HASH[algorithm], key).update(message).digest();
}

/** HOTP(K, C) = Truncate(HMAC(K, C)) mod 10^Digit, zero-padded (RFC 4226 §5.3). */
export function generateHOTP(key: Uint8Array | KeyObject, counter: bigint, digits: number, algorithm: HashAlgorithm): string {
	if (!Number.isInteger(digits) || digits < 6 || digits > 8) throw new TypeError("HOTP digits must be 6, 7 or 8");
	const value = dynamicTruncate(hotpMAC(key, counter, algorithm)) % 10 ** digits;
	return value.toString().padStart(digits, "0");
}
