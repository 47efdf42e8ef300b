import { timingSafeEqual } from "node:crypto";

/**
 * The one comparison for secrets, codes, hashes and MACs (R-OTP-10, V-14).
 * Lengths are not secret here (codes have a fixed, public length), so a length
 * mismatch may return early; equal lengths always compare every byte.
 */
export function constantTimeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
	const left = typeof a === "string" ? Buffer.from(a, "utf8") : a;
	const right = typeof b === "string" ? Buffer.from(b, "utf8") : b;
	if (left.byteLength !== right.byteLength) return false;
	return timingSafeEqual(left, right);
}
