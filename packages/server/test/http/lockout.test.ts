import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, DIALECTS, enrollActive, nextStep, type TestApp } from "../helpers.js";

const WRONG = "000000";

describe.each(DIALECTS)("attempt budget and lockout (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	/** A wrong code that is not the current one, so a failure is certain. */
	function wrongFor(secret: string): string {
		return codeFor(secret, t.clock()) === WRONG ? "111111" : WRONG;
	}

	async function fail(user: string, secret: string, times: number): Promise<void> {
		for (let i = 0; i < times; i++) {
			const res = await t.call("POST", `/v1/users/${user}/verify`, { code: wrongFor(secret) });
			expect(res.status).toBe(422);
			t.clock.advance(301_000);
		}
	}

	it("throttles after 5 failures with growing delays and Retry-After, even for the correct code (V-4, V-5d)", async () => {
		const { secret } = await enrollActive(t, "thr");
		for (let i = 0; i < 5; i++) expect((await t.call("POST", "/v1/users/thr/verify", { code: wrongFor(secret) })).status).toBe(422);
		const throttled = await t.call("POST", "/v1/users/thr/verify", { code: codeFor(secret, t.clock()) });
		expect(throttled.status).toBe(429);
		expect(throttled.json.error.code).toBe("too_many_attempts");
		expect(throttled.headers["retry-after"]).toBe("1");
		t.clock.advance(1000);
		expect((await t.call("POST", "/v1/users/thr/verify", { code: wrongFor(secret) })).status).toBe(422);
		expect((await t.call("POST", "/v1/users/thr/verify", { code: wrongFor(secret) })).headers["retry-after"]).toBe("2");
		t.clock.advance(2000);
		nextStep(t.clock);
		// A success resets the consecutive count.
		expect((await t.call("POST", "/v1/users/thr/verify", { code: codeFor(secret, t.clock()) })).status).toBe(200);
		expect((await t.call("POST", "/v1/users/thr/verify", { code: wrongFor(secret) })).status).toBe(422);
	});

	it("locks at 100 consecutive failures; then even the correct code is refused until an admin unlocks (R-OTP-6)", async () => {
		const { secret } = await enrollActive(t, "lock");
		await fail("lock", secret, 99);
		const hundredth = await t.call("POST", "/v1/users/lock/verify", { code: wrongFor(secret) });
		expect(hundredth.status).toBe(422);
		nextStep(t.clock);
		const correct = await t.call("POST", "/v1/users/lock/verify", { code: codeFor(secret, t.clock()) });
		const wrong = await t.call("POST", "/v1/users/lock/verify", { code: wrongFor(secret) });
		expect(correct.status).toBe(423);
		expect(correct.json.error.code).toBe("locked");
		// V-12b: locked-correct and locked-wrong are byte-identical.
		expect(correct.body).toBe(wrong.body);
		expect((await t.call("GET", "/v1/users/lock")).json.locked).toBe(true);
		const events = await t.call("GET", "/v1/events?user_id=lock&type=user.locked");
		expect(events.json.events).toHaveLength(1);
		expect(events.json.events[0].data.failed_attempts).toBe(100);
		// Refused attempts are not evaluated and do not count further.
		expect((await t.call("GET", "/v1/events?user_id=lock&type=verification.failed&limit=100")).json.events[0].data.failed_attempts).toBe(100);

		const defaultKey = await t.app.services.apiKeys.create(t.tenantId, "default");
		expect((await t.call("POST", "/v1/users/lock/unlock", undefined, defaultKey.token)).status).toBe(403);
		expect((await t.call("POST", "/v1/users/lock/unlock")).status).toBe(204);
		expect((await t.call("GET", "/v1/events?user_id=lock&type=user.unlocked")).json.events[0].data.actor_key_id).toMatch(/^key_/);
		expect((await t.call("POST", "/v1/users/lock/verify", { code: codeFor(secret, t.clock()) })).status).toBe(200);
	});

	it("recovery-code failures and confirm failures draw on the same budget (V-4, V-5f)", async () => {
		const { secret } = await enrollActive(t, "shared");
		nextStep(t.clock);
		const pending = await t.call("POST", "/v1/users/shared/factors", { type: "totp", code: codeFor(secret, t.clock()) });
		await t.call("POST", "/v1/users/shared/verify", { code: "aaaa-bbbb-cccc-dddd" });
		await t.call("POST", `/v1/users/shared/factors/${pending.json.factor.id}/confirm`, { code: WRONG });
		await t.call("DELETE", `/v1/users/shared/factors/${pending.json.factor.id}`, {});
		await t.call("POST", "/v1/users/shared/verify", { code: wrongFor(secret) });
		const failed = await t.call("GET", "/v1/events?user_id=shared&type=verification.failed");
		expect(failed.json.events.map((e: any) => e.data.failed_attempts)).toEqual([3, 2, 1]);
		expect(failed.json.events.map((e: any) => e.data.purpose)).toEqual(["verify", "confirm", "verify"]);
	});

	it("a new pending factor or a lock on another user does not reset or share the count", async () => {
		const a = await enrollActive(t, "iso-a");
		await enrollActive(t, "iso-b");
		await fail("iso-a", a.secret, 3);
		await t.call("POST", "/v1/users/iso-a/factors", { type: "totp" });
		await fail("iso-a", a.secret, 1);
		const events = await t.call("GET", "/v1/events?user_id=iso-a&type=verification.failed&limit=1");
		expect(events.json.events[0].data.failed_attempts).toBe(4);
		expect((await t.call("GET", "/v1/events?user_id=iso-b&type=verification.failed")).json.events).toHaveLength(0);
	});

	it("50 parallel wrong codes at 99 failures: exactly one is evaluated, the count stops at 100 (V-3 counter variant)", async () => {
		const { secret } = await enrollActive(t, "race-lock");
		await fail("race-lock", secret, 99);
		const answers = await Promise.all(Array.from({ length: 50 }, () => t.call("POST", "/v1/users/race-lock/verify", { code: wrongFor(secret) })));
		const statuses = answers.map((a) => a.status);
		expect(statuses.filter((s) => s === 422)).toHaveLength(1);
		expect(statuses.filter((s) => s === 422 || s === 423 || s === 429)).toHaveLength(50);
		const user = await t.app.store.users.find(t.tenantId, "race-lock");
		expect(user!.failed_attempts).toBe(100);
	});

	it("the lock survives closing and reopening the database (D-3)", async () => {
		const { secret } = await enrollActive(t, "durable-lock");
		await fail("durable-lock", secret, 100);
		// Read straight from a fresh handle on the same database: the lock was committed, not cached.
		const { openStore } = await import("../../src/store/kysely-store.js");
		const fresh = openStore(
			dialect === "sqlite" ? { sqlitePath: t.app.config.sqlitePath } : { databaseURL: t.app.config.databaseURL!, sqlitePath: "" },
		);
		try {
			const user = await fresh.users.find(t.tenantId, "durable-lock");
			expect(user).toMatchObject({ failed_attempts: 100 });
			expect(user!.locked_at).not.toBeNull();
		} finally {
			await fresh.close();
		}
	});
});
