import { asciiUpperCase } from "./ascii.js";

/** RFC 4648 §6 base32, the encoding authenticator apps use for TOTP secrets (Key Uri Format). */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export function encodeBase32(bytes: Uint8Array): string {
	return encodeWithAlphabet(bytes, ALPHABET);
}

/** 5 bits a character, most significant first, the last character zero-padded; no "=" padding. */
export function encodeWithAlphabet(bytes: Uint8Array, alphabet: string): string {
	let output = "";
	let buffer = 0;
	let bits = 0;
	for (const byte of bytes) {
		buffer = ((buffer << 8) | byte) & 0xffff;
		bits += 8;
		while (bits >= 5) {
			output += alphabet[(buffer >>> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0) output += alphabet[(buffer << (5 - bits)) & 31];
	return output;
}

/**
 * Decodes base32, accepting lower case and trailing "=" padding (exports from
 * authenticator apps vary in both) and nothing else: no spaces, no other symbols.
 * Returns null when the input is not base32.
 */
export function decodeBase32(input: string): Uint8Array | null {
	// ASCII-only case folding: toUpperCase would turn U+017F LONG S into "S" and U+0131 into "I".
	const text = asciiUpperCase(input)?.replace(/=+$/, "");
	if (text === undefined || text.length === 0 || !/^[A-Z2-7]+$/.test(text)) return null;
	// A length of 1, 3 or 6 (mod 8) cannot come from whole bytes.
	if ([1, 3, 6].includes(text.length % 8)) return null;
	const output = new Uint8Array(Math.floor((text.length * 5) / 8));
	let buffer = 0;
	let bits = 0;
	let index = 0;
	for (const char of text) {
		buffer = ((buffer << 5) | ALPHABET.indexOf(char)) & 0xffff;
		bits += 5;
		if (bits >= 8) {
			output[index++] = (buffer >>> (bits - 8)) & 0xff;
			bits -= 8;
		}
	}
	return output;
}
