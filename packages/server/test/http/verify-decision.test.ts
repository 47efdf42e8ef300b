import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/store.js";
import { buildTestApp, codeFor, enrollActive, nextStep, POSTGRES_AVAILABLE, type TestApp } from "../helpers.js";

/**
 * Issue 19, ADR 0009: on PostgreSQL a verify reads the user's state with the API key (round trip 1), checks the code
 * in Node, and is decided by one statement, twofold_decide_attempt (round trip 2). That statement is the decision:
 * whatever changed between the two, the user's row as it is when the statement holds it decides. Each test changes
 * the row between the two round trips, through the app's own store on another pooled connection, at the moment the
 * decision statement is about to be sent (a hook on the pg driver, test-only, like test/statement-recorder.ts), and
 * checks the answer, the count and the events.
 */
const DECISION = "select decision, decided_factor_id";

describe.skipIf(!POSTGRES_AVAILABLE)("the decision statement decides, whatever the first read saw (postgres)", () => {
	let t: TestApp;
	let store: Store;
	let hook: (() => Promise<void>) | undefined;
	let decisions = 0;
	let restore: () => void;

	beforeAll(async () => {
		// On the prototype, before the app's pool connects: dialects.ts binds each pooled client's query when it connects.
		const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
		(pg.Client.prototype as unknown as { query: unknown }).query = function (this: unknown, ...args: unknown[]) {
			const [config] = args;
			const text = typeof config === "string" ? config : (config as { text?: string } | undefined)?.text;
			if (typeof text === "string" && text.startsWith(DECISION)) {
				decisions += 1;
				const run = hook;
				hook = undefined;
				if (run !== undefined) return run().then(() => original.apply(this, args));
			}
			return original.apply(this, args);
		};
		restore = () => {
			(pg.Client.prototype as unknown as { query: unknown }).query = original;
		};
		t = await buildTestApp({ dialect: "postgres" });
		store = t.app.services.deps.store;
		expect((await t.call("PATCH", "/v1/tenant", { attempts: { throttle_after: 5, lock_after: 3 } })).status).toBe(200);
	});
	afterAll(async () => {
		await t?.close();
		restore?.();
	});

	const verify = (user: string, code: string) => t.call("POST", `/v1/users/${user}/verify`, { code });
	const events = async (user: string, type: string) =>
		(await t.call("GET", `/v1/events?user_id=${user}&type=${type}&limit=100`)).json.events as { data: Record<string, unknown>; factor_id: string | null }[];
	const row = async (user: string) => (await store.users.find(t.tenantId, user))!;
	/** Runs fn between the verify's first read and its decision; fails the test if the verify never reached a decision. */
	async function between<T>(fn: () => Promise<void>, work: () => Promise<T>): Promise<T> {
		const before = decisions;
		let ran = false;
		hook = async () => {
			ran = true;
			await fn();
		};
		const result = await work();
		hook = undefined;
		expect(decisions - before, "the verify sent one decision statement").toBe(1);
		expect(ran, "the change was made between the two round trips").toBe(true);
		return result;
	}

	it("a user locked between the first read and the decision gets locked: the step is not spent and nothing is counted (R-OTP-6, ADR 0009)", async () => {
		const { secret } = await enrollActive(t, "dec-lock");
		nextStep(t.clock);
		const code = codeFor(secret, t.clock());
		// Another node's failures locked the user after this verify's first read (which saw no failure).
		const answer = await between(() => store.users.recordFailure(t.tenantId, "dec-lock", 3, 0, t.clock().getTime()), () => verify("dec-lock", code));
		expect(answer.status, answer.body).toBe(423);
		expect(answer.json.error.code).toBe("locked");
		const held = await row("dec-lock");
		expect(held.failed_attempts).toBe(3);
		expect(await events("dec-lock", "verification.failed")).toHaveLength(0);
		expect(await events("dec-lock", "verification.succeeded")).toHaveLength(0);
		// The refused attempt spent nothing: once unlocked, the same code in the same step is accepted.
		expect((await t.call("POST", "/v1/users/dec-lock/unlock")).status).toBe(204);
		const after = await verify("dec-lock", code);
		expect(after.status, after.body).toBe(200);
	});

	it("a user throttled between the first read and the decision gets too_many_attempts, not counted (R-OTP-6, ADR 0009)", async () => {
		const { secret } = await enrollActive(t, "dec-throttle");
		nextStep(t.clock);
		const wrong = codeFor(secret, t.clock()) === "000000" ? "111111" : "000000";
		const until = t.clock().getTime() + 60_000;
		const answer = await between(() => store.users.recordFailure(t.tenantId, "dec-throttle", 2, until, null), () => verify("dec-throttle", wrong));
		expect(answer.status, answer.body).toBe(429);
		expect(answer.json.error.code).toBe("too_many_attempts");
		const held = await row("dec-throttle");
		expect(held.failed_attempts).toBe(2);
		expect(held.next_attempt_at).toBe(until);
		expect(await events("dec-throttle", "verification.failed")).toHaveLength(0);
	});

	it("a failure is counted once, on the row as the decision holds it: failures counted meanwhile are kept and the lock falls at lock_after (R-OTP-6, V-4, ADR 0009)", async () => {
		const { secret } = await enrollActive(t, "dec-count");
		nextStep(t.clock);
		const wrong = codeFor(secret, t.clock()) === "000000" ? "111111" : "000000";
		// The first read sees 0 failures; two are counted by another node before the decision, which makes the third.
		const answer = await between(() => store.users.recordFailure(t.tenantId, "dec-count", 2, 0, null), () => verify("dec-count", wrong));
		expect(answer.status, answer.body).toBe(422);
		const held = await row("dec-count");
		expect(held.failed_attempts).toBe(3);
		expect(held.locked_at).toBe(t.clock().getTime());
		const failed = await events("dec-count", "verification.failed");
		expect(failed).toHaveLength(1);
		expect(failed[0]!.data).toEqual({ purpose: "verify", reason: "invalid", failed_attempts: 3 });
		const locked = await events("dec-count", "user.locked");
		expect(locked).toHaveLength(1);
		expect(locked[0]!.data).toEqual({ failed_attempts: 3 });
		// Locked now: the correct code is refused, and not counted.
		expect((await verify("dec-count", codeFor(secret, t.clock()))).status).toBe(423);
		expect((await row("dec-count")).failed_attempts).toBe(3);
	});

	it("a step spent between the first read and the decision is a replay: refused as a wrong code, counted once, recorded as a replay (R-OTP-1, R-OTP-9, ADR 0009)", async () => {
		const { secret, factorId } = await enrollActive(t, "dec-spent");
		nextStep(t.clock);
		const code = codeFor(secret, t.clock());
		const step = Math.floor(t.clock().getTime() / 30_000);
		const answer = await between(
			async () => {
				expect(await store.factors.consumeStep(t.tenantId, "dec-spent", factorId, step, t.clock().getTime())).toBe(true);
			},
			() => verify("dec-spent", code),
		);
		expect(answer.status, answer.body).toBe(422);
		expect(answer.json.error.code).toBe("invalid_code");
		expect((await row("dec-spent")).failed_attempts).toBe(1);
		const replays = await events("dec-spent", "verification.replay_rejected");
		expect(replays).toHaveLength(1);
		expect(replays[0]!.factor_id).toBe(factorId);
		expect(replays[0]!.data).toEqual({ purpose: "verify", method: "totp" });
		expect(await events("dec-spent", "verification.failed")).toHaveLength(1);
		expect(await events("dec-spent", "verification.succeeded")).toHaveLength(0);
	});

	it("an id unknown at the first read and a success are decided by the statement too: one attempt record, one failure; one success (V-12a, ADR 0009)", async () => {
		const wrong = "000000";
		const answer = await between(async () => {}, () => verify("dec-unknown", wrong));
		expect(answer.status, answer.body).toBe(422);
		const record = await row("dec-unknown");
		expect(record.failed_attempts).toBe(1);
		expect(record.record_expires_at).not.toBeNull();
		const failed = (await t.call("GET", "/v1/events?type=verification.failed&limit=100")).json.events as { user_id: string | null; data: Record<string, unknown> }[];
		expect(failed.filter((event) => event.data.unknown_user_id === "dec-unknown")).toEqual([
			expect.objectContaining({ user_id: null, data: { purpose: "verify", reason: "invalid", failed_attempts: 1, unknown_user_id: "dec-unknown" } }),
		]);

		const { secret, factorId } = await enrollActive(t, "dec-ok");
		nextStep(t.clock);
		const ok = await between(async () => {}, () => verify("dec-ok", codeFor(secret, t.clock())));
		expect(ok.status, ok.body).toBe(200);
		expect(ok.json.factor_id).toBe(factorId);
		const succeeded = await events("dec-ok", "verification.succeeded");
		expect(succeeded).toHaveLength(1);
		expect(succeeded[0]!.data).toEqual({ purpose: "verify", method: "totp" });
		expect(succeeded[0]!.factor_id).toBe(factorId);
	});
});

if (!POSTGRES_AVAILABLE) console.warn("[skip] verify-decision: PostgreSQL absent (CI=true requires PostgreSQL)");
