// HOTP factors (RFC 4226, issue 14): enroll, confirm, look-ahead verify, replay, resync and its attempt budget,
// tenant isolation. The 50-way race is in concurrency.test.ts, the restore fence in restore-fence.test.ts.
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBase32 } from "../../src/core/base32.js";
import { generateHOTP } from "../../src/core/hotp.js";
import { buildTestApp, codeFor, DIALECTS, enrollActive, nextStep, type TestApp } from "../helpers.js";

/** RFC 4226 Appendix D's secret "12345678901234567890" in base32: its codes for counters 0-9 are the RFC's table. */
const RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/** The code an HOTP token shows for a counter. */
function hotpCode(secret: string, counter: number, digits = 6): string {
	return generateHOTP(decodeBase32(secret)!, BigInt(counter), digits, "SHA1");
}

describe.each(DIALECTS)("HOTP factors (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	/** Imports RFC_SECRET (or a given one) at a start counter and confirms it with that counter's code. */
	async function enrollHOTP(user: string, options: { counter?: number; secret?: string; code?: string } = {}): Promise<string> {
		const counter = options.counter ?? 0;
		const secret = options.secret ?? RFC_SECRET;
		const enrolled = await t.call("POST", `/v1/users/${user}/factors`, { type: "hotp", secret, counter, ...(options.code === undefined ? {} : { code: options.code }) });
		expect(enrolled.status, enrolled.body).toBe(201);
		const id = enrolled.json.factor.id as string;
		const confirmed = await t.call("POST", `/v1/users/${user}/factors/${id}/confirm`, { code: hotpCode(secret, counter) });
		expect(confirmed.status, confirmed.body).toBe(200);
		return id;
	}

	const verify = (user: string, code: unknown) => t.call("POST", `/v1/users/${user}/verify`, { code });
	const resync = (user: string, factorId: string, codes: unknown, key?: string) => t.call("POST", `/v1/users/${user}/factors/${factorId}/resync`, { codes }, key);
	const storedCounter = async (user: string, factorId: string) => Number((await t.app.services.deps.store.factors.find(t.tenantId, user, factorId))!.last_used_step);
	const events = async (user: string, type: string) => (await t.call("GET", `/v1/events?user_id=${user}&type=${type}`)).json.events as { data: Record<string, unknown> }[];

	it("enrolls a generated secret with an otpauth://hotp URI carrying the start counter and a QR code, shown once", async () => {
		const enrolled = await t.call("POST", "/v1/users/hotp-gen/factors", { type: "hotp", counter: 5, label: "Key fob" });
		expect(enrolled.status).toBe(201);
		expect(enrolled.json.factor).toMatchObject({ type: "hotp", status: "pending", label: "Key fob" });
		const { secret, uri, qr_svg, qr_png } = enrolled.json.hotp as Record<string, string>;
		// RFC 4226 §4 R6 / RFC 6238 §5.1: a generated secret is the HMAC output length (SHA-1: 20 bytes, R-OTP-4).
		expect(decodeBase32(secret)!.byteLength).toBe(20);
		expect(uri).toBe(`otpauth://hotp/acme:Key%20fob?secret=${secret}&issuer=acme&algorithm=SHA1&digits=6&counter=5`);
		expect(qr_svg).toMatch(/^<svg/);
		expect(qr_png).toMatch(/^data:image\/png;base64,/);
		expect(await storedCounter("hotp-gen", enrolled.json.factor.id)).toBe(4);

		// Confirm with the start counter's code: active, first factor's recovery codes, an assertion (amr otp, RFC 8176).
		const confirmed = await t.call("POST", `/v1/users/hotp-gen/factors/${enrolled.json.factor.id}/confirm`, { code: hotpCode(secret, 5) });
		expect(confirmed.status).toBe(200);
		expect(confirmed.json.factor.status).toBe("active");
		expect(confirmed.json.recovery_codes).toHaveLength(10);
		expect(decodeJwt(confirmed.json.assertion)).toMatchObject({ amr: ["otp"], acr: "urn:twofold:acr:otp", factor_id: enrolled.json.factor.id });
		// V-1: the confirming code is consumed; the next one verifies, as method "hotp".
		expect((await verify("hotp-gen", hotpCode(secret, 5))).json.error.code).toBe("invalid_code");
		const verified = await verify("hotp-gen", hotpCode(secret, 6));
		expect(verified.json).toMatchObject({ valid: true, method: "hotp", factor_id: enrolled.json.factor.id });
		expect(decodeJwt(verified.json.assertion).amr).toEqual(["otp"]);
		expect((await events("hotp-gen", "verification.succeeded"))[0]!.data).toEqual({ purpose: "verify", method: "hotp" });
		// Listed with its type, never with a secret or URI (R-LC-7).
		const listed = await t.call("GET", "/v1/users/hotp-gen/factors");
		expect(listed.json.factors[0].type).toBe("hotp");
		expect(listed.body).not.toContain(secret);
	});

	it("never echoes an imported secret; validates the secret and the counter (0 … 2^53-1, integer)", async () => {
		const imported = await t.call("POST", "/v1/users/hotp-import/factors", { type: "hotp", secret: RFC_SECRET.toLowerCase(), counter: 9 });
		expect(imported.status).toBe(201);
		expect(imported.json.hotp).toBeUndefined();
		expect(imported.body).not.toMatch(new RegExp(RFC_SECRET, "i"));
		expect(await storedCounter("hotp-import", imported.json.factor.id)).toBe(8);
		expect((await t.call("POST", `/v1/users/hotp-import/factors/${imported.json.factor.id}/confirm`, { code: "520489" })).status).toBe(200);

		expect((await t.call("POST", "/v1/users/hotp-bad/factors", { type: "hotp", secret: "GEZDGNBVGY3TQOJQ" })).json.error.code).toBe("invalid_secret");
		for (const counter of [-1, 1.5, "3", Number.MAX_SAFE_INTEGER + 1]) {
			expect((await t.call("POST", "/v1/users/hotp-bad/factors", { type: "hotp", counter })).json.error.code, String(counter)).toBe("invalid_request");
		}
		expect((await t.call("POST", "/v1/users/hotp-bad/factors", { type: "hotp", period: 30 })).json.error.code).toBe("invalid_request");
		expect((await t.call("POST", "/v1/users/hotp-max/factors", { type: "hotp", counter: Number.MAX_SAFE_INTEGER })).status).toBe(201);
	});

	it("accepts counters last+1 … last+1+look_ahead and refuses one beyond; a used or skipped counter never works again (R-OTP-1)", async () => {
		expect((await t.call("PATCH", "/v1/tenant", { hotp: { look_ahead: 3 } })).status).toBe(200);
		try {
			const id = await enrollHOTP("hotp-window"); // counter 0 consumed: last = 0
			expect((await verify("hotp-window", hotpCode(RFC_SECRET, 5))).json.error.code).toBe("invalid_code"); // last+1+3 = 4 < 5
			expect(await storedCounter("hotp-window", id)).toBe(0);
			expect((await verify("hotp-window", hotpCode(RFC_SECRET, 4))).status).toBe(200); // the window's edge
			expect(await storedCounter("hotp-window", id)).toBe(4);
			for (const counter of [4, 2, 1]) expect((await verify("hotp-window", hotpCode(RFC_SECRET, counter))).json.error.code).toBe("invalid_code");
			// R-OTP-9: the caller sees a wrong code; the audit trail names each as a replay of this HOTP factor.
			expect((await events("hotp-window", "verification.replay_rejected")).map((event) => event.data)).toEqual(
				[4, 2, 1].map(() => ({ purpose: "verify", method: "hotp" })),
			);
			expect((await verify("hotp-window", hotpCode(RFC_SECRET, 8))).status).toBe(200); // 4+1+3
			expect((await verify("hotp-window", hotpCode(RFC_SECRET, 13))).status).toBe(422); // 8+1+3 = 12 < 13
			await t.call("PATCH", "/v1/tenant", { hotp: { look_ahead: 0 } });
			expect((await verify("hotp-window", hotpCode(RFC_SECRET, 10))).status).toBe(422);
			expect((await verify("hotp-window", hotpCode(RFC_SECRET, 9))).status).toBe(200);
		} finally {
			await t.call("PATCH", "/v1/tenant", { hotp: { look_ahead: 10 } });
		}
		for (const look_ahead of [-1, 101, 1.5]) expect((await t.call("PATCH", "/v1/tenant", { hotp: { look_ahead } })).status).toBe(400);
		for (const resync_window of [1, 1001]) expect((await t.call("PATCH", "/v1/tenant", { hotp: { resync_window } })).status).toBe(400);
		expect((await t.call("GET", "/v1/tenant")).json.settings.hotp).toEqual({ look_ahead: 10, resync_window: 100 });
	});

	it("checks a code against the user's TOTP and HOTP factors alike", async () => {
		nextStep(t.clock);
		const { secret } = await enrollActive(t, "hotp-both");
		// A second factor is added with a proof from the first (R-LC-1).
		nextStep(t.clock);
		await enrollHOTP("hotp-both", { code: codeFor(secret, t.clock()) });
		expect((await verify("hotp-both", hotpCode(RFC_SECRET, 1))).json.method).toBe("hotp");
		nextStep(t.clock);
		expect((await verify("hotp-both", codeFor(secret, t.clock()))).json.method).toBe("totp");
	});

	it("resyncs with two consecutive codes within the resync window, once; then the next code verifies", async () => {
		const id = await enrollHOTP("hotp-resync"); // last = 0
		// The token ran ahead past the look-ahead window (10): its code at 20 alone is refused.
		expect((await verify("hotp-resync", hotpCode(RFC_SECRET, 20))).status).toBe(422);
		// Not consecutive, in the wrong order, or one repeated: refused.
		for (const codes of [
			[hotpCode(RFC_SECRET, 20), hotpCode(RFC_SECRET, 22)],
			[hotpCode(RFC_SECRET, 21), hotpCode(RFC_SECRET, 20)],
			[hotpCode(RFC_SECRET, 20), hotpCode(RFC_SECRET, 20)],
		]) {
			expect((await resync("hotp-resync", id, codes)).json.error.code).toBe("invalid_code");
		}
		const key = await t.app.services.apiKeys.create(t.tenantId, "default");
		const done = await resync("hotp-resync", id, [hotpCode(RFC_SECRET, 20), hotpCode(RFC_SECRET, 21)], key.token);
		expect(done.status, done.body).toBe(200);
		expect(done.json).toEqual({ factor: expect.objectContaining({ id, type: "hotp", status: "active" }) });
		expect(done.json.assertion).toBeUndefined();
		expect(await storedCounter("hotp-resync", id)).toBe(21);
		expect((await events("hotp-resync", "factor.resynchronized")).map((event) => event.data)).toEqual([{ type: "hotp" }]);
		// Single use: the same pair again, or either code, is refused; the token's next code verifies.
		expect((await resync("hotp-resync", id, [hotpCode(RFC_SECRET, 20), hotpCode(RFC_SECRET, 21)])).json.error.code).toBe("invalid_code");
		expect((await verify("hotp-resync", hotpCode(RFC_SECRET, 21))).status).toBe(422);
		expect((await verify("hotp-resync", hotpCode(RFC_SECRET, 22))).json.method).toBe("hotp");

		// The window's edges: last+1 … last+resync_window holds both codes (last = 22, window 100).
		expect((await resync("hotp-resync", id, [hotpCode(RFC_SECRET, 122), hotpCode(RFC_SECRET, 123)])).status).toBe(422);
		expect((await resync("hotp-resync", id, [hotpCode(RFC_SECRET, 121), hotpCode(RFC_SECRET, 122)])).status).toBe(200);
		expect(await storedCounter("hotp-resync", id)).toBe(122);
	});

	it("a resync is an attempt: malformed or wrong codes are counted failures; a locked user's correct resync is refused (R-OTP-6)", async () => {
		const id = await enrollHOTP("hotp-budget");
		for (const codes of [undefined, "755224", [287082], ["287082", "359152", "969429"], [287082, 359152], ["287082", "3591520"], [" 287082", "359152"]]) {
			const res = await t.call("POST", `/v1/users/hotp-budget/factors/${id}/resync`, codes === undefined ? {} : { codes });
			if (codes === undefined) {
				// No codes at all is a malformed request, not an attempt (as a verify without a code).
				expect(res.json.error.code).toBe("invalid_request");
				continue;
			}
			expect(res.status, JSON.stringify(codes)).toBe(422);
			expect(res.json.error.code).toBe("invalid_code");
			t.clock.advance(301_000); // past the throttle delay, so each one is evaluated and counted
		}
		const failed = await events("hotp-budget", "verification.failed");
		expect(failed).toHaveLength(6);
		expect(failed[0]!.data).toEqual({ purpose: "resync", reason: "malformed", failed_attempts: 6 });
		// A success clears the count, as a verify's does.
		expect((await resync("hotp-budget", id, [hotpCode(RFC_SECRET, 30), hotpCode(RFC_SECRET, 31)])).status).toBe(200);

		await t.call("PATCH", "/v1/tenant", { attempts: { lock_after: 3 } });
		try {
			for (let i = 0; i < 3; i++) expect((await resync("hotp-budget", id, ["000000", "000001"])).status).toBe(422);
			expect((await events("hotp-budget", "user.locked"))).toHaveLength(1);
			const locked = await resync("hotp-budget", id, [hotpCode(RFC_SECRET, 40), hotpCode(RFC_SECRET, 41)]);
			expect(locked.status).toBe(423);
			expect(locked.json.error.code).toBe("locked");
			expect(await storedCounter("hotp-budget", id)).toBe(31);
			expect((await t.call("POST", "/v1/users/hotp-budget/unlock")).status).toBe(204);
			expect((await resync("hotp-budget", id, [hotpCode(RFC_SECRET, 40), hotpCode(RFC_SECRET, 41)])).status).toBe(200);
		} finally {
			await t.call("PATCH", "/v1/tenant", { attempts: { lock_after: 100 } });
		}
	});

	it("refuses resync for a factor without a counter (409 resync_not_supported), uncounted; an unknown, deleted or other tenant's factor is factor_not_found", async () => {
		nextStep(t.clock);
		const { factorId: totpId, secret } = await enrollActive(t, "hotp-kinds");
		const notSupported = await resync("hotp-kinds", totpId, ["755224", "287082"]);
		expect(notSupported.status).toBe(409);
		expect(notSupported.json.error.code).toBe("resync_not_supported");
		nextStep(t.clock);
		const pending = await t.call("POST", "/v1/users/hotp-kinds/factors", { type: "hotp", code: codeFor(secret, t.clock()) });
		expect((await resync("hotp-kinds", pending.json.factor.id, ["755224", "287082"])).json.error.code).toBe("resync_not_supported");
		expect(await events("hotp-kinds", "verification.failed")).toHaveLength(0);

		expect((await resync("hotp-kinds", "fac_00000000000000000000000000", ["755224", "287082"])).json.error.code).toBe("factor_not_found");
		const hotpId = await enrollHOTP("hotp-owner");
		expect((await t.call("DELETE", `/v1/users/hotp-owner/factors/${hotpId}`, { reason: "test: deleted factor" })).status).toBe(204);
		expect((await resync("hotp-owner", hotpId, [hotpCode(RFC_SECRET, 1), hotpCode(RFC_SECRET, 2)])).json.error.code).toBe("factor_not_found");

		// V-17: another tenant's key sees no such factor, for the same user id and factor id.
		const victimId = await enrollHOTP("hotp-victim");
		const other = await t.app.services.tenants.create("other");
		const foreign = await resync("hotp-victim", victimId, [hotpCode(RFC_SECRET, 1), hotpCode(RFC_SECRET, 2)], other.apiKey);
		expect(foreign.status).toBe(404);
		expect(foreign.json.error.code).toBe("factor_not_found");
		expect((await t.call("POST", "/v1/users/hotp-victim/verify", { code: hotpCode(RFC_SECRET, 1) }, other.apiKey)).status).toBe(422);
		expect(await storedCounter("hotp-victim", victimId)).toBe(0);
		expect((await verify("hotp-victim", hotpCode(RFC_SECRET, 1))).status).toBe(200);
	});
});
