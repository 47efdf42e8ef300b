import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, DIALECTS, enrollActive, type TestApp } from "../helpers.js";

/**
 * Issue 12 "Also": a recovery code typed with U+212A KELVIN SIGN for "k" was accepted, because toLowerCase maps it
 * to "k". Non-ASCII anywhere in a code is malformed, counts as a failed attempt (R-OTP-11, V-2, R-RC-4) and
 * consumes nothing.
 */
describe.each(DIALECTS)("codes with non-ASCII look-alikes (V-2, R-OTP-11, R-RC-4, issue 12) (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	it("a recovery code with U+212A for k is refused as a failed attempt and does not spend the code", async () => {
		// Codes are random: enroll until one holds a "k" (each of ten codes of 16 symbols: about 99.4% on the first user).
		let user = "";
		let code: string | undefined;
		for (let i = 0; code === undefined && i < 10; i++) {
			user = `kelvin-${i}`;
			code = (await enrollActive(t, user)).recoveryCodes.find((c: string) => c.includes("k"));
		}
		expect(code).toBeDefined();
		for (const lookAlike of [code!.replace("k", "\u212a"), code!.toUpperCase().replace("K", "\u212a")]) {
			const res = await t.call("POST", `/v1/users/${user}/verify`, { code: lookAlike });
			expect(res.status, lookAlike).toBe(422);
			expect(res.json.error.code).toBe("invalid_code");
			t.clock.advance(301_000); // past the throttle, so the next one is evaluated too
		}
		const failed = await t.call("GET", `/v1/events?user_id=${user}&type=verification.failed`);
		expect(failed.json.events).toHaveLength(2);
		expect((await t.call("GET", `/v1/users/${user}`)).json.recovery_codes_remaining).toBe(10);
		const ascii = await t.call("POST", `/v1/users/${user}/verify`, { code });
		expect(ascii.status).toBe(200);
		expect(ascii.json.method).toBe("recovery_code");
	});

	it("a code with any other non-ASCII character that case-maps to ASCII (U+0130, U+0131, U+017F, U+FB00 ligatures) is malformed too", async () => {
		const { recoveryCodes } = await enrollActive(t, "unicode-other");
		const code = recoveryCodes[0] as string;
		for (const c of ["\u0130", "\u0131", "\u017f", "\ufb00", "\u00df"]) {
			const res = await t.call("POST", "/v1/users/unicode-other/verify", { code: `${c}${code.slice(1)}` });
			expect(res.status, c).toBe(422);
			t.clock.advance(301_000);
		}
		expect((await t.call("GET", "/v1/users/unicode-other")).json.recovery_codes_remaining).toBe(10);
	});

	it("an imported TOTP secret with U+017F for S is refused as not base32", async () => {
		const res = await t.call("POST", "/v1/users/unicode-import/factors", { type: "totp", secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PX\u017f" });
		expect(res.status).toBe(400);
		expect(res.json.error.code).toBe("invalid_secret");
		expect((await t.call("POST", "/v1/users/unicode-import/factors", { type: "totp", secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXS" })).status).toBe(201);
	});
});
