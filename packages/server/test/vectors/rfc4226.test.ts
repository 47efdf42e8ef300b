// RFC 4226 Appendix D, "HOTP Algorithm: Test Values": https://datatracker.ietf.org/doc/html/rfc4226#appendix-D
// Also §5.4's worked truncation example. R-OTP-12, V-16.
import { describe, expect, it } from "vitest";
import { dynamicTruncate, generateHOTP, hotpMAC } from "../../src/core/hotp.js";

const SECRET = Buffer.from("12345678901234567890", "ascii");

const TABLE = [
	{ count: 0n, hmac: "cc93cf18508d94934c64b65d8ba7667fb7cde4b0", decimal: 1284755224, hotp: "755224" },
	{ count: 1n, hmac: "75a48a19d4cbe100644e8ac1397eea747a2d33ab", decimal: 1094287082, hotp: "287082" },
	{ count: 2n, hmac: "0bacb7fa082fef30782211938bc1c5e70416ff44", decimal: 137359152, hotp: "359152" },
	{ count: 3n, hmac: "66c28227d03a2d5529262ff016a1e6ef76557ece", decimal: 1726969429, hotp: "969429" },
	{ count: 4n, hmac: "a904c900a64b35909874b33e61c5938a8e15ed1c", decimal: 1640338314, hotp: "338314" },
	{ count: 5n, hmac: "a37e783d7b7233c083d4f62926c7a25f238d0316", decimal: 868254676, hotp: "254676" },
	{ count: 6n, hmac: "bc9cd28561042c83f219324d3c607256c03272ae", decimal: 1918287922, hotp: "287922" },
	{ count: 7n, hmac: "a4fb960c0bc06e1eabb804e5b397cdc4b45596fa", decimal: 82162583, hotp: "162583" },
	{ count: 8n, hmac: "1b3c89f65e6c9e883012052823443f048b4332db", decimal: 673399871, hotp: "399871" },
	{ count: 9n, hmac: "1637409809a679dc698207310c8c7fc07290d9e5", decimal: 645520489, hotp: "520489" },
];

describe("RFC 4226 Appendix D (R-OTP-12)", () => {
	it.each(TABLE)("counter $count: HMAC, truncated value and HOTP match", ({ count, hmac, decimal, hotp }) => {
		const mac = hotpMAC(SECRET, count, "SHA1");
		expect(Buffer.from(mac).toString("hex")).toBe(hmac);
		expect(dynamicTruncate(mac)).toBe(decimal);
		expect(generateHOTP(SECRET, count, 6, "SHA1")).toBe(hotp);
	});

	it("§5.4 worked example: offset 0xa gives 872921", () => {
		const mac = Buffer.from("1f8698690e02ca16618550ef7f19da8e945b555a", "hex");
		expect(dynamicTruncate(mac)).toBe(0x50ef7f19);
		expect((dynamicTruncate(mac) % 1_000_000).toString().padStart(6, "0")).toBe("872921");
	});

	it("refuses digit counts outside 6-8 and negative counters (misuse is a TypeError)", () => {
		expect(() => generateHOTP(SECRET, 0n, 5, "SHA1")).toThrow(TypeError);
		expect(() => generateHOTP(SECRET, 0n, 9, "SHA1")).toThrow(TypeError);
		expect(() => generateHOTP(SECRET, -1n, 6, "SHA1")).toThrow(TypeError);
		// Survivors of the mutation run (docs/testing.md): the 64-bit upper bound and the messages.
		expect(() => generateHOTP(SECRET, 2n ** 64n, 6, "SHA1")).toThrow(/HOTP counter out of range/);
		expect(() => generateHOTP(SECRET, -1n, 6, "SHA1")).toThrow(/HOTP counter out of range/);
		expect(generateHOTP(SECRET, 2n ** 64n - 1n, 6, "SHA1")).toMatch(/^\d{6}$/);
		for (const digits of [5, 9, 6.5]) expect(() => generateHOTP(SECRET, 0n, digits, "SHA1")).toThrow(/HOTP digits must be 6, 7 or 8/);
	});
});
