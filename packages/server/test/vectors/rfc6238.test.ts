// RFC 6238 Appendix B test vectors, with the seeds of Appendix A's reference code (the known erratum:
// SHA256/512 rows use 32- and 64-byte seeds): https://datatracker.ietf.org/doc/html/rfc6238#appendix-B
// R-OTP-3 (64-bit time), R-OTP-12, V-16 (no key padding).
import { describe, expect, it } from "vitest";
import { decodeBase32 } from "../../src/core/base32.js";
import { generateHOTP, type HashAlgorithm } from "../../src/core/hotp.js";
import { generateTOTP, totpCounter, verifyTOTP } from "../../src/core/totp.js";

const SEEDS: Record<HashAlgorithm, Buffer> = {
	SHA1: Buffer.from("12345678901234567890"),
	SHA256: Buffer.from("12345678901234567890123456789012"),
	SHA512: Buffer.from("1234567890123456789012345678901234567890123456789012345678901234"),
};

const TABLE: [number, string, Record<HashAlgorithm, string>][] = [
	[59, "0000000000000001", { SHA1: "94287082", SHA256: "46119246", SHA512: "90693936" }],
	[1111111109, "00000000023523EC", { SHA1: "07081804", SHA256: "68084774", SHA512: "25091201" }],
	[1111111111, "00000000023523ED", { SHA1: "14050471", SHA256: "67062674", SHA512: "99943326" }],
	[1234567890, "000000000273EF07", { SHA1: "89005924", SHA256: "91819424", SHA512: "93441116" }],
	[2000000000, "0000000003F940AA", { SHA1: "69279037", SHA256: "90698825", SHA512: "38618901" }],
	[20000000000, "0000000027BC86AA", { SHA1: "65353130", SHA256: "77737706", SHA512: "47863826" }],
];

const ROWS = TABLE.flatMap(([time, t, codes]) =>
	(Object.keys(codes) as HashAlgorithm[]).map((algorithm) => ({ time, t, algorithm, code: codes[algorithm] })),
);

describe("RFC 6238 Appendix B (R-OTP-12, R-OTP-3)", () => {
	it("has all 18 rows", () => expect(ROWS).toHaveLength(18));

	it.each(ROWS)("$algorithm at t=$time gives $code (T=$t)", ({ time, t, algorithm, code }) => {
		expect(totpCounter(time * 1000, 30).toString(16).toUpperCase().padStart(16, "0")).toBe(t);
		expect(generateTOTP({ key: SEEDS[algorithm], nowInMilliseconds: time * 1000, periodInSeconds: 30, digits: 8, algorithm })).toBe(code);
		expect(verifyTOTP({ key: SEEDS[algorithm], code, nowInMilliseconds: time * 1000, periodInSeconds: 30, digits: 8, algorithm, windowInSteps: 0 })).toBe(
			BigInt(`0x${t}`),
		);
	});

	it("keeps the leading zero of 07081804", () => {
		expect(generateTOTP({ key: SEEDS.SHA1, nowInMilliseconds: 1111111109_000, periodInSeconds: 30, digits: 8, algorithm: "SHA1" })).toBe("07081804");
	});

	it("the 6-digit forms are the last six digits", () => {
		const six = [59, 1111111109, 1111111111, 1234567890, 2000000000, 20000000000].map((time) =>
			generateTOTP({ key: SEEDS.SHA1, nowInMilliseconds: time * 1000, periodInSeconds: 30, digits: 6, algorithm: "SHA1" }),
		);
		expect(six).toEqual(["287082", "081804", "050471", "005924", "279037", "353130"]);
	});

	it("SHA256 with the 20-byte seed does not reproduce the table: the key is used unpadded (V-16)", () => {
		const code = generateTOTP({ key: SEEDS.SHA1, nowInMilliseconds: 59_000, periodInSeconds: 30, digits: 8, algorithm: "SHA256" });
		expect(code).toBe("32247374");
		expect(code).not.toBe("46119246");
	});

	it("the base32 forms in rfc-vectors.md decode to the seeds", () => {
		expect(Buffer.from(decodeBase32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")!)).toEqual(SEEDS.SHA1);
		expect(Buffer.from(decodeBase32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA====")!)).toEqual(SEEDS.SHA256);
		expect(
			Buffer.from(
				decodeBase32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA=")!,
			),
		).toEqual(SEEDS.SHA512);
	});

	it("counters beyond 32 bits are encoded as 8 bytes (R-OTP-3)", () => {
		// 2^32 + 1 steps: a 32-bit implementation would wrap to counter 1.
		expect(generateHOTP(SEEDS.SHA1, 2n ** 32n + 1n, 6, "SHA1")).not.toBe(generateHOTP(SEEDS.SHA1, 1n, 6, "SHA1"));
	});
});

describe("verifyTOTP window (R-OTP-2)", () => {
	const base = { key: SEEDS.SHA1, periodInSeconds: 30, digits: 6, algorithm: "SHA1" as const };
	const at = 1111111109_000;
	const code = "081804";

	it("window 1 accepts T-1 and T+1, rejects T-2 and T+2", () => {
		expect(verifyTOTP({ ...base, code, nowInMilliseconds: at + 30_000, windowInSteps: 1 })).toBe(totpCounter(at, 30));
		expect(verifyTOTP({ ...base, code, nowInMilliseconds: at - 30_000, windowInSteps: 1 })).toBe(totpCounter(at, 30));
		expect(verifyTOTP({ ...base, code, nowInMilliseconds: at + 60_000, windowInSteps: 1 })).toBeNull();
		expect(verifyTOTP({ ...base, code, nowInMilliseconds: at - 60_000, windowInSteps: 1 })).toBeNull();
	});

	it("window 0 accepts only T", () => {
		expect(verifyTOTP({ ...base, code, nowInMilliseconds: at, windowInSteps: 0 })).toBe(totpCounter(at, 30));
		expect(verifyTOTP({ ...base, code, nowInMilliseconds: at + 30_000, windowInSteps: 0 })).toBeNull();
	});

	it("a window above one step is misuse", () => {
		expect(() => verifyTOTP({ ...base, code, nowInMilliseconds: at, windowInSteps: 2 })).toThrow(TypeError);
		// Survivors of the mutation run (docs/testing.md): negative and fractional windows, and the message.
		for (const windowInSteps of [2, -1, 0.5, Number.NaN]) {
			expect(() => verifyTOTP({ ...base, code, nowInMilliseconds: at, windowInSteps }), String(windowInSteps)).toThrow(/TOTP window must be 0 or 1 step \(R-OTP-2\)/);
		}
	});

	it("at the epoch, step 0 is a candidate and step -1 is not (no negative counter reaches HOTP)", () => {
		const first = generateHOTP(SEEDS.SHA1, 0n, 6, "SHA1");
		expect(verifyTOTP({ ...base, code: first, nowInMilliseconds: 0, windowInSteps: 1 })).toBe(0n);
		expect(verifyTOTP({ ...base, code: first, nowInMilliseconds: 29_999, windowInSteps: 1 })).toBe(0n);
	});

	it("when two steps in the window share a code, the later step is returned (it is the one consumed)", () => {
		// Found by search: with the RFC seed, steps 910737 and 910738 both give 911617.
		expect(generateHOTP(SEEDS.SHA1, 910_737n, 6, "SHA1")).toBe("911617");
		expect(generateHOTP(SEEDS.SHA1, 910_738n, 6, "SHA1")).toBe("911617");
		for (const now of [910_737, 910_738]) {
			expect(verifyTOTP({ ...base, code: "911617", nowInMilliseconds: now * 30_000 + 1, windowInSteps: 1 })).toBe(910_738n);
		}
	});
});
