import { describe, expect, it } from "vitest";
import { asciiLowerCase, asciiUpperCase } from "./ascii.js";
import { decodeBase32, encodeBase32 } from "./base32.js";
import { normalizeRecoveryCode } from "./recovery-codes.js";

/** Every code point outside ASCII, as a string (lone surrogates included: a JSON body can carry them). */
function* nonAscii(): Generator<string> {
	for (let cp = 0x80; cp <= 0x10ffff; cp++) yield cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
}
/** The non-ASCII characters that Unicode case mapping turns into (or into something holding) an ASCII letter. */
const FOLD_TO_ASCII = [...nonAscii()].filter((c) => /[A-Za-z]/.test(c.toLowerCase()) || /[A-Za-z]/.test(c.toUpperCase()));

describe("ASCII-only case folding for codes and ids (V-2, R-OTP-11, issue 12)", () => {
	it("knows the look-alikes it is about: U+212A KELVIN SIGN, U+0130, U+0131, U+017F and the rest", () => {
		expect("\u212a".toLowerCase()).toBe("k");
		expect("\u017f".toUpperCase()).toBe("S");
		expect(FOLD_TO_ASCII).toEqual(expect.arrayContaining(["\u212a", "\u0130", "\u0131", "\u017f"]));
	});
	it("maps A-Z and a-z only and refuses every non-ASCII code point, anywhere in the input", () => {
		expect(asciiLowerCase("ABC-xyz-09")).toBe("abc-xyz-09");
		expect(asciiUpperCase("abc-XYZ-09")).toBe("ABC-XYZ-09");
		for (const c of nonAscii()) {
			if (asciiLowerCase(`ab${c}`) !== null || asciiUpperCase(`${c}ab`) !== null) throw new Error(`accepted U+${c.codePointAt(0)!.toString(16)}`);
		}
	});
	it("a recovery code with any non-ASCII character in any position is no recovery code (U+212A for k: issue 12)", () => {
		const code = "abcd-efgh-jkmn-pqrs";
		expect(normalizeRecoveryCode(code.replace("k", "\u212a"))).toBeNull();
		expect("abcd-efgh-j\u212amn-pqrs".toLowerCase().replace(/-/g, "")).toBe("abcdefghjkmnpqrs"); // what toLowerCase let through
		for (const c of FOLD_TO_ASCII) {
			for (let position = 0; position <= code.length; position++) {
				for (const candidate of [code.slice(0, position) + c + code.slice(position + 1), code.slice(0, position) + c + code.slice(position)]) {
					expect(normalizeRecoveryCode(candidate), `U+${c.codePointAt(0)!.toString(16)} at ${position}`).toBeNull();
				}
			}
		}
		for (const c of nonAscii()) if (normalizeRecoveryCode(c + code.slice(1)) !== null) throw new Error(`accepted U+${c.codePointAt(0)!.toString(16)}`);
	});
	it("a base32 secret to import with a non-ASCII look-alike (U+017F for s, U+0131 for i) is not base32", () => {
		const secret = encodeBase32(new Uint8Array(20).fill(0x5a));
		expect(decodeBase32(secret)).not.toBeNull();
		expect(decodeBase32(secret.toLowerCase())).not.toBeNull();
		const withS = secret.replace(/[A-Z]/, "S");
		expect(decodeBase32(withS)).not.toBeNull();
		expect(decodeBase32(withS.replace("S", "\u017f"))).toBeNull();
		for (const c of FOLD_TO_ASCII) expect(decodeBase32(c + secret.slice(1)), `U+${c.codePointAt(0)!.toString(16)}`).toBeNull();
	});
});
