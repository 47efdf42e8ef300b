import { randomBytes, scryptSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CROCKFORD_ALPHABET } from "./crockford.js";
import { findMatchingRecoveryCodes, generateRecoveryCode, hashRecoveryCode, normalizeRecoveryCode } from "./recovery-codes.js";

const random = (n: number) => new Uint8Array(randomBytes(n));

describe("recovery codes (R-RC-1, R-RC-2)", () => {
	it("100k codes: no duplicates, 80 bits each, uniform symbols", () => {
		const codes = new Set<string>();
		const counts = new Map<string, number>();
		for (let i = 0; i < 100_000; i++) {
			const code = generateRecoveryCode(random);
			expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/);
			codes.add(code);
			for (const char of code.replace(/-/g, "")) counts.set(char, (counts.get(char) ?? 0) + 1);
		}
		expect(codes.size).toBe(100_000);
		// 16 symbols x 5 bits = 80 bits >= 64 (NIST 63B-4 §4.2.1.1).
		expect(16 * Math.log2(CROCKFORD_ALPHABET.length)).toBeGreaterThanOrEqual(64);
		// Chi-square over 32 symbols (31 degrees of freedom): 103 is the 1 - 10⁻⁹ quantile, so a fair
		// generator fails once in a billion runs; a biased one (a missing or doubled symbol) lands in the thousands.
		const expected = (100_000 * 16) / 32;
		let chi = 0;
		for (const symbol of CROCKFORD_ALPHABET) chi += ((counts.get(symbol) ?? 0) - expected) ** 2 / expected;
		expect(counts.size).toBe(32);
		expect(chi).toBeLessThan(103);
	});

	it("forgives hyphens and case only", () => {
		expect(normalizeRecoveryCode("ABCD-EFGH-JKMN-PQRS")).toBe("abcdefghjkmnpqrs");
		expect(normalizeRecoveryCode("abcdefghjkmnpqrs")).toBe("abcdefghjkmnpqrs");
		for (const bad of [" abcd-efgh-jkmn-pqrs", "abcd efgh jkmn pqrs", "abcd-efgh-jkmn-pqr", "abcd-efgh-jkmn-pqrsx", "ilou-efgh-jkmn-pqrs", "abcd-efgh-jkmn-pqrs\n"]) {
			expect(normalizeRecoveryCode(bad)).toBeNull();
		}
	});

	it("stores a salted scrypt hash, unique per code, and finds the matching one", async () => {
		const codes = [generateRecoveryCode(random), generateRecoveryCode(random), generateRecoveryCode(random)];
		const stored = await Promise.all(codes.map((code) => hashRecoveryCode(code, random)));
		expect(new Set(stored.map((s) => s.salt)).size).toBe(3);
		for (const entry of stored) {
			expect(Buffer.from(entry.salt, "base64url").byteLength).toBeGreaterThanOrEqual(4);
			for (const code of codes) expect(entry.hash).not.toContain(code.replace(/-/g, ""));
		}
		expect(await findMatchingRecoveryCodes(normalizeRecoveryCode(codes[1]!.toUpperCase())!, stored)).toEqual([1]);
		expect(await findMatchingRecoveryCodes(normalizeRecoveryCode(generateRecoveryCode(random))!, stored)).toEqual([]);
	});

	it("the stored hash is scrypt(N=2^10, r=8, p=1, 32 bytes) of the normalized code under the stored 128-bit salt (R-RC-2, ADR 0003)", async () => {
		// Recomputed from the documented parameters, not searched for the plain code: base64url of the
		// code itself would contain no substring of the code and still be reversible.
		for (let i = 0; i < 5; i++) {
			const code = generateRecoveryCode(random);
			const stored = await hashRecoveryCode(code, random);
			const salt = Buffer.from(stored.salt, "base64url");
			expect(salt.byteLength).toBe(16);
			const expected = scryptSync(code.replace(/-/g, ""), salt, 32, { N: 1024, r: 8, p: 1 });
			expect(Buffer.from(stored.hash, "base64url").equals(expected)).toBe(true);
			for (const value of [stored.hash, stored.salt]) {
				for (const form of [code, code.replace(/-/g, "")]) {
					expect(Buffer.from(value, "base64url").includes(form)).toBe(false);
					expect(value).not.toContain(form);
				}
			}
		}
	});
});
