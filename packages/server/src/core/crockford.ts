import { encodeWithAlphabet } from "./base32.js";

/**
 * Crockford's base32 alphabet in lower case (no i, l, o, u), used for ids and
 * recovery codes: easy to read aloud and to type, no look-alike characters.
 */
export const CROCKFORD_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export function encodeCrockford(bytes: Uint8Array): string {
	return encodeWithAlphabet(bytes, CROCKFORD_ALPHABET);
}
