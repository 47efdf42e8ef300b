import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeBase32, encodeBase32 } from "./base32.js";

describe("base32 (RFC 4648 §6)", () => {
	it("matches the RFC 4648 §10 test vectors", () => {
		const vectors: [string, string][] = [
			["f", "MY"],
			["fo", "MZXQ"],
			["foo", "MZXW6"],
			["foob", "MZXW6YQ"],
			["fooba", "MZXW6YTB"],
			["foobar", "MZXW6YTBOI"],
		];
		for (const [plain, encoded] of vectors) {
			expect(encodeBase32(Buffer.from(plain))).toBe(encoded);
			expect(Buffer.from(decodeBase32(encoded)!).toString()).toBe(plain);
		}
	});

	it("round-trips random data of every length", () => {
		for (let length = 1; length < 70; length++) {
			const bytes = randomBytes(length);
			expect(Buffer.from(decodeBase32(encodeBase32(bytes))!)).toEqual(bytes);
		}
	});

	it("accepts lower case and padding, rejects everything else (V-16)", () => {
		expect(decodeBase32("mzxw6ytboi")).not.toBeNull();
		expect(decodeBase32("MZXW6YQ=")).not.toBeNull();
		for (const bad of ["", "====", "MZX W6", "MZXW6!", "MZXW1", "M", "MZX", "MZXW6Y"]) expect(decodeBase32(bad)).toBeNull();
		// Every character is checked, the first too, at lengths that whole bytes could have.
		for (const bad of ["0MZXW6YQ", "1MZXW6YQ", " MZXW6YQ", "MZXW6YQ8"]) expect(decodeBase32(bad), bad).toBeNull();
		// "=" is padding only at the end.
		for (const bad of ["=MZXW6YQ", "MZX=W6YQ", "MZ=XW6YQ=="]) expect(decodeBase32(bad), bad).toBeNull();
		expect(Buffer.from(decodeBase32("MZXW6===")!).toString()).toBe("foo");
	});

	it("refuses a non-ASCII look-alike instead of folding it (issue 12)", () => {
		// U+017F LONG S would uppercase to "S"; the input is refused, not thrown on.
		expect(decodeBase32("MZXW6YT\u017F")).toBeNull();
		expect(decodeBase32("mzxw6ytb\u0131")).toBeNull();
	});
});
