import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateNumericCode, oneTimeCodeHash, renderTemplate } from "./one-time-code.js";

describe("one-time codes for messages", () => {
	it("draws uniform 6-digit codes, rejecting the biased tail", () => {
		// 0xFFFFFFFF is above the largest multiple of 10^6 below 2^32: rejected, the next draw is used.
		const draws = [[0xff, 0xff, 0xff, 0xff], [0, 0, 0x30, 0x39]];
		expect(generateNumericCode(() => new Uint8Array(draws.shift()!), 6)).toBe("012345");
		// The first rejected value is the limit itself (4294000000 = 0xFFF1_3D80, the largest multiple of 10^6 below 2^32).
		const atLimit = [[0xff, 0xf1, 0x3d, 0x80], [0, 0, 0, 5]];
		expect(generateNumericCode(() => new Uint8Array(atLimit.shift()!), 6)).toBe("000005");
		const counts = new Array(10).fill(0);
		const random = (n: number) => new Uint8Array(randomBytes(n));
		for (let i = 0; i < 20000; i++) for (const digit of generateNumericCode(random, 6)) counts[Number(digit)]++;
		// 120,000 digits: each count is 12,000 ± 104 (one standard deviation); 6 deviations never happen by chance.
		for (const count of counts) expect(Math.abs(count - 12000)).toBeLessThan(625);
	});

	it("binds the hash to tenant, user and challenge", () => {
		const key = new Uint8Array(32).fill(1);
		const base = { tenantId: "ten_a", userId: "u", challengeId: "chl_1" };
		const hash = oneTimeCodeHash(key, base, "123456");
		expect(hash).not.toContain("123456");
		for (const other of [{ ...base, tenantId: "ten_b" }, { ...base, userId: "v" }, { ...base, challengeId: "chl_2" }]) expect(oneTimeCodeHash(key, other, "123456")).not.toBe(hash);
	});

	it("renders templates, escaping values in HTML", () => {
		expect(renderTemplate("Code {{code}} for {{tenant}} {{other}}", { code: "1", tenant: "A&B" }, false)).toBe("Code 1 for A&B {{other}}");
		expect(renderTemplate("<b>{{tenant}}</b>", { tenant: '<script>"x"' }, true)).toBe("<b>&#60;script&#62;&#34;x&#34;</b>");
	});

	it("the stored hash is base64url HMAC-SHA256 over the bound code (R-EM-4)", () => {
		const key = new Uint8Array(randomBytes(32));
		const binding = { tenantId: "ten_1", userId: "u", challengeId: "chl_1" };
		const expected = createHmac("sha256", key).update(JSON.stringify(["ten_1", "u", "chl_1", "123456"])).digest("base64url");
		expect(oneTimeCodeHash(key, binding, "123456")).toBe(expected);
	});
});
