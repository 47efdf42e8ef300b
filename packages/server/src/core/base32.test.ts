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
	});
});
