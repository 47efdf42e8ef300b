import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, DIALECTS, enrollActive, nextStep, testClock, type TestApp } from "../helpers.js";

const RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

describe.each(DIALECTS)("verify (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	async function importAt(userId: string, time: number, body: Record<string, unknown> = {}): Promise<string> {
		t.clock.set(time);
		const enrolled = await t.call("POST", `/v1/users/${userId}/factors`, { type: "totp", secret: RFC_SECRET, ...body });
		// Confirm one step earlier than the vectors so the vector's own step is still unused.
		const options = { digits: (body.digits as number) ?? 6, algorithm: (body.algorithm as "SHA1") ?? "SHA1" };
		t.clock.set(time - 30_000);
		const confirm = await t.call("POST", `/v1/users/${userId}/factors/${enrolled.json.factor.id}/confirm`, {
			code: codeFor(RFC_SECRET, time - 30_000, options),
		});
		expect(confirm.status).toBe(200);
		return enrolled.json.factor.id;
	}

	it("RFC 6238 vector through the API: 081804 at 1111111109 accepted once, then replay rejected (R-OTP-1, V-1)", async () => {
		const factorId = await importAt("kat-a", 1111111109_000);
		t.clock.set(1111111109_000);
		const ok = await t.call("POST", "/v1/users/kat-a/verify", { code: "081804" });
		expect(ok.status).toBe(200);
		expect(ok.json).toEqual({ valid: true, method: "totp", factor_id: factorId, recovery_codes_remaining: 10, assertion: expect.any(String) });
		const replay = await t.call("POST", "/v1/users/kat-a/verify", { code: "081804" });
		expect(replay.status).toBe(422);
		expect(replay.json.error.code).toBe("invalid_code");
		// Still inside the ±1 window one step later: rejected, since its step was used.
		t.clock.set(1111111139_000);
		expect((await t.call("POST", "/v1/users/kat-a/verify", { code: "081804" })).status).toBe(422);
		// R-OTP-9: the audit log records the replay that the caller cannot tell from a wrong code.
		const events = await t.call("GET", "/v1/events?user_id=kat-a&type=verification.replay_rejected");
		expect(events.json.events.length).toBeGreaterThanOrEqual(2);
		expect(events.json.events[0].factor_id).toBe(factorId);
	});

	it("window: T-1 accepted by default, T-2 never; window 0 accepts only T (R-OTP-2)", async () => {
		await importAt("kat-b", 1111111109_000);
		t.clock.set(1111111139_000);
		expect((await t.call("POST", "/v1/users/kat-b/verify", { code: "081804" })).status).toBe(200);
		await importAt("kat-c", 1111111109_000);
		t.clock.set(1111111169_000);
		expect((await t.call("POST", "/v1/users/kat-c/verify", { code: "081804" })).status).toBe(422);

		expect((await t.call("PATCH", "/v1/tenant", { totp: { window: 0 } })).status).toBe(200);
		await importAt("kat-d", 1111111109_000);
		t.clock.set(1111111139_000);
		expect((await t.call("POST", "/v1/users/kat-d/verify", { code: "081804" })).status).toBe(422);
		t.clock.set(1111111109_000);
		expect((await t.call("POST", "/v1/users/kat-d/verify", { code: "081804" })).status).toBe(200);
		expect((await t.call("PATCH", "/v1/tenant", { totp: { window: 1 } })).status).toBe(200);
	});

	it("a code from a step past the window is refused, also within HOTP's look-ahead: a TOTP factor is never tried as a counter (R-OTP-2)", async () => {
		// Confirmed at step S-1 (1111111079); the window accepts S, and steps S+1 … S+10 are what an HOTP look-ahead of 10
		// from that last used "counter" would accept if the HOTP kind were asked about a TOTP factor.
		for (const [user, offset] of [["kat-f2", 2], ["kat-f6", 6], ["kat-f11", 11]] as const) {
			await importAt(user, 1111111109_000);
			const future = codeFor(RFC_SECRET, 1111111079_000 + offset * 30_000);
			const res = await t.call("POST", `/v1/users/${user}/verify`, { code: future });
			expect(res.status, `step T+${offset}`).toBe(422);
			const failed = await t.call("GET", `/v1/events?user_id=${user}&type=verification.failed`);
			expect(failed.json.events.map((event: { data: { reason: string } }) => event.data.reason)).toEqual(["invalid"]);
			// Nothing was consumed: the code of the next step (T+1, inside the window) still verifies.
			expect((await t.call("POST", `/v1/users/${user}/verify`, { code: "081804" })).status).toBe(200);
		}
	});

	it("an older step is rejected after a newer one was used", async () => {
		await importAt("kat-e", 1111111109_000);
		t.clock.set(1111111111_000);
		// 1111111111 is the next step (0x23523ED): its 6-digit code is 050471.
		expect((await t.call("POST", "/v1/users/kat-e/verify", { code: "050471" })).status).toBe(200);
		expect((await t.call("POST", "/v1/users/kat-e/verify", { code: "081804" })).status).toBe(422);
	});

	it("SHA256 and SHA512 with 8 digits through the API, at 2^32+ seconds (R-OTP-3, R-OTP-12)", async () => {
		const seeds = {
			SHA256: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA====",
			SHA512: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA=",
		};
		for (const [algorithm, code] of [["SHA256", "77737706"], ["SHA512", "47863826"]] as const) {
			const user = `kat-${algorithm}`;
			t.clock.set(20000000000_000 - 30_000);
			const enrolled = await t.call("POST", `/v1/users/${user}/factors`, { type: "totp", secret: seeds[algorithm], algorithm, digits: 8 });
			const confirmCode = codeFor(seeds[algorithm], t.clock(), { digits: 8, algorithm });
			expect((await t.call("POST", `/v1/users/${user}/factors/${enrolled.json.factor.id}/confirm`, { code: confirmCode })).status).toBe(200);
			t.clock.set(20000000000_000);
			expect((await t.call("POST", `/v1/users/${user}/verify`, { code })).status).toBe(200);
		}
	});

	it("rejects every normalization variant and counts each as a failure (R-OTP-11, V-2)", async () => {
		t.clock.set(Date.now());
		const { secret } = await enrollActive(t, "v2");
		nextStep(t.clock);
		const variantsOf = (code: string): unknown[] => {
			const fullWidth = [...code].map((d) => String.fromCharCode(0xff10 + Number(d))).join("");
			return [` ${code}`, `${code} `, `${code.slice(0, 3)} ${code.slice(3)}`, `${code}\n`, fullWidth, `+${code}`, `0${code}`, Number(code), [code], `${code}\u0000`];
		};
		const variants = [...variantsOf("000000").keys(), null, true, { code: "x" }];
		for (const index of variants) {
			// Each variant is built from the code that is valid at that moment.
			const variant = typeof index === "number" ? variantsOf(codeFor(secret, t.clock()))[index] : index;
			const res = await t.call("POST", "/v1/users/v2/verify", { code: variant });
			expect(res.status, JSON.stringify(variant)).toBe(422);
			expect(res.json.error.code).toBe("invalid_code");
			// Past the growing throttle delay (at most 300 s), so every variant is evaluated.
			t.clock.advance(301_000);
		}
		const failed = await t.call("GET", `/v1/events?user_id=v2&type=verification.failed&limit=100`);
		expect(failed.json.events).toHaveLength(variants.length);
		// None of them consumed anything: a current code still works, once.
		const now = codeFor(secret, t.clock());
		expect((await t.call("POST", "/v1/users/v2/verify", { code: now })).status).toBe(200);
		expect((await t.call("POST", "/v1/users/v2/verify", { code: now })).status).toBe(422);
	});

	it("a WebAuthn or email proof field alone is a counted malformed attempt, not a 400 (V-2)", async () => {
		await enrollActive(t, "v2-alone");
		const bodies = [{ challenge_id: "chl_x" }, { credential: {} }, { challenge_id: "chl_x", code: 5 }];
		for (const body of bodies) {
			const res = await t.call("POST", "/v1/users/v2-alone/verify", body);
			expect(res.status, JSON.stringify(body)).toBe(422);
			expect(res.json.error.code).toBe("invalid_code");
			t.clock.advance(301_000);
		}
		const failed = await t.call("GET", "/v1/events?user_id=v2-alone&type=verification.failed&limit=100");
		expect(failed.json.events.map((event: { data: { reason: string } }) => event.data.reason)).toEqual(bodies.map(() => "malformed"));
	});

	it("unknown user, user without factors and wrong code read the same (V-12)", async () => {
		t.clock.set(Date.now());
		await enrollActive(t, "v12-has");
		await t.call("POST", "/v1/users/v12-pending/factors", { type: "totp" });
		const bodies = new Set<string>();
		for (const user of ["v12-nobody", "v12-pending", "v12-has"]) {
			const res = await t.call("POST", `/v1/users/${user}/verify`, { code: "000000" });
			expect(res.status).toBe(422);
			bodies.add(res.body);
		}
		expect(bodies.size).toBe(1);
	});

	it("factor_id restricts the check to that factor", async () => {
		t.clock.set(Date.now());
		const first = await enrollActive(t, "v-fid");
		nextStep(t.clock);
		const second = await enrollActive(t, "v-fid", { code: codeFor(first.secret, t.clock()) });
		nextStep(t.clock);
		const code = codeFor(first.secret, t.clock());
		expect((await t.call("POST", "/v1/users/v-fid/verify", { code, factor_id: second.factorId })).status).toBe(422);
		const ok = await t.call("POST", "/v1/users/v-fid/verify", { code, factor_id: first.factorId });
		expect(ok.status).toBe(200);
		expect(ok.json.factor_id).toBe(first.factorId);
	});
});

describe("the clock cannot be moved by a request (R-OTP-8)", () => {
	it("headers and body fields do not change the verifier's time", async () => {
		const t = await buildTestApp({ clock: testClock(1111111109_000 + 3600_000) });
		try {
			t.clock.set(1111111109_000 - 30_000);
			const enrolled = await t.call("POST", "/v1/users/clock/factors", { type: "totp", secret: RFC_SECRET });
			await t.call("POST", `/v1/users/clock/factors/${enrolled.json.factor.id}/confirm`, { code: codeFor(RFC_SECRET, t.clock()) });
			t.clock.set(1111111109_000 + 3600_000);
			const res = await t.http.inject({
				method: "POST",
				url: "/v1/users/clock/verify",
				headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json", date: "Fri, 18 Mar 2005 01:58:29 GMT", "x-test-time": "1111111109" },
				payload: JSON.stringify({ code: "081804" }),
			});
			expect(res.statusCode).toBe(422);
			// A body field naming a time is not part of the contract at all.
			expect((await t.call("POST", "/v1/users/clock/verify", { code: "081804", now: 1111111109 })).status).toBe(400);
		} finally {
			await t.close();
		}
	});
});
