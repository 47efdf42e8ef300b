import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateId, isId } from "./id.js";

const random = (n: number) => new Uint8Array(randomBytes(n));

describe("ids: a prefix and 128 random bits in Crockford base32 (R-AS-4)", () => {
	it("recognizes the ids it generates, for their own prefix only", () => {
		const id = generateId("fac", random);
		expect(id).toMatch(/^fac_[0-9a-z]{26}$/);
		expect(isId("fac", id)).toBe(true);
		expect(isId("key", id)).toBe(false);
		expect(isId("fac", generateId("fac", () => new Uint8Array(16).fill(0xff)))).toBe(true);
	});

	it("refuses another length, letters outside Crockford's alphabet, upper case and anything around the id", () => {
		const body = "0123456789abcdefghjkmnpqrs";
		expect(isId("evt", `evt_${body}`)).toBe(true);
		for (const value of [`evt_${body.slice(1)}`, `evt_${body}t`, `evt_${body.slice(1)}i`, `evt_${body.slice(1)}l`, `evt_${body.slice(1)}o`, `evt_${body.slice(1)}u`, `evt_${body.toUpperCase()}`, ` evt_${body}`, `evt_${body}\n`, `xevt_${body}`, `evt-${body}`, "evt_", ""]) {
			expect(isId("evt", value), value).toBe(false);
		}
	});
});
