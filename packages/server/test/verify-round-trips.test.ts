import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, DIALECTS, enrollActive, POSTGRES_AVAILABLE, testClock, type DialectName, type TestApp } from "./helpers.js";
import { installStatementRecorder, type StatementRecorder } from "./statement-recorder.js";

/**
 * Issue 19 ("PostgreSQL: two round trips"): how many statements one verify sends to the database, counted
 * statement by statement through a recorder on the drivers (test/statement-recorder.ts). Before issue 19 a verify
 * on PostgreSQL took 7 round trips (correct and wrong), 10 (replay) and 4 (locked): the key lookup, BEGIN, the locking
 * read, the step update or failure count, each event and its outbox fan-out, COMMIT. ADR 0009 made it at most 2. The
 * exact counts are asserted so that any change that adds or removes a round trip fails here instead of drifting
 * unnoticed. SQLite is counted as information only (calls into an embedded library, not round trips); its count
 * depends on the read snapshot's turns, so only its presence is checked.
 */
// correct, wrong and replay: (1) the API key lookup, which also reads the user's attempt state and factors within the
// key's tenant (no lock); (2) select … from twofold_decide_attempt(…), one statement that holds the user's row, re-checks
// the lock and the throttle, consumes the step or counts the failure, writes the events with their outbox rows, and
// commits. locked: the key lookup only (the first read shows the lock; a refused attempt writes nothing).
const EXPECTED_POSTGRES_ROUND_TRIPS = {
	correct: 2,
	wrong: 2,
	replay: 2,
	locked: 1,
};

/** A fixed start, 1 s into a 30 s step, so every measured verify falls in the same step and the same minute. */
const START = Math.floor(Date.UTC(2030, 0, 1) / 30_000) * 30_000 + 1_000;
const WRONG = "000000";

describe.each(DIALECTS)("statements per verify (%s)", (dialect: DialectName) => {
	let recorder: StatementRecorder;
	let t: TestApp;
	const counts: Record<string, number> = {};

	beforeAll(async () => {
		// Installed before the app opens its store: dialects.ts binds each pooled client's query when it connects.
		recorder = installStatementRecorder();
		t = await buildTestApp({ dialect, clock: testClock(START) });
		// The lowest lock threshold the API allows, so the locked case needs three failures only.
		expect((await t.call("PATCH", "/v1/tenant", { attempts: { lock_after: 3 } })).status).toBe(200);
	});
	afterAll(async () => {
		await t?.close();
		recorder?.uninstall();
		console.log(`[issue 19] statements per verify on ${dialect}: ${JSON.stringify(counts)}`);
	});

	/** One verify over HTTP (inject), recorded; prints the SQL text (never the parameters: they hold codes). */
	async function measured(name: string, userId: string, code: string, expectedStatus: number): Promise<void> {
		const { result, statements } = await recorder.record(() => t.call("POST", `/v1/users/${userId}/verify`, { code }));
		expect(result.status, result.body).toBe(expectedStatus);
		const shown = statements.map((s, k) => `  ${k + 1}. ${s.length > 160 ? `${s.slice(0, 160)}…` : s}`);
		console.log(`[issue 19] ${dialect}, ${name} (${result.status}): ${statements.length} statements\n${shown.join("\n")}`);
		counts[name] = statements.length;
	}


	it("counts a correct code, a wrong code, a replayed code and a locked user's attempt", async () => {
		// Enrolled and confirmed in the first step; verified in the next, so the step is fresh.
		const warm = await enrollActive(t, "warm-up");
		const user = await enrollActive(t, "measured");
		const locked = await enrollActive(t, "locked");
		t.clock.advance(30_000);
		// The first verify of the process loads what later ones find cached (the signing key, the tenant).
		expect((await t.call("POST", "/v1/users/warm-up/verify", { code: codeFor(warm.secret, t.clock()) })).status).toBe(200);

		const code = codeFor(user.secret, t.clock());
		await measured("correct", "measured", code, 200);
		await measured("wrong", "measured", code === WRONG ? "111111" : WRONG, 422);
		await measured("replay", "measured", code, 422);

		const lockedCode = codeFor(locked.secret, t.clock());
		const wrongForLocked = lockedCode === WRONG ? "111111" : WRONG;
		for (let i = 0; i < 3; i++) expect((await t.call("POST", "/v1/users/locked/verify", { code: wrongForLocked })).status).toBe(422);
		await measured("locked", "locked", lockedCode, 423);

		// All four at once, so a drift shows every changed count in one diff.
		if (dialect === "postgres") expect(counts, "round trips to PostgreSQL per verify (issue 19: target at most 2)").toEqual(EXPECTED_POSTGRES_ROUND_TRIPS);
		else for (const count of Object.values(counts)) expect(count).toBeGreaterThan(0);
	});
});

if (!POSTGRES_AVAILABLE) console.warn("[skip] verify-round-trips: PostgreSQL absent, so only SQLite's statements are counted (CI=true requires PostgreSQL)");
