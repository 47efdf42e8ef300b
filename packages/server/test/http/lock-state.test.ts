import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Migrator, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKysely } from "../../src/store/dialects.js";
import { migrationProvider } from "../../src/store/migrations/index.js";
import { buildTestApp, codeFor, createPostgresSchema, DIALECTS, enrollActive, nextStep, type TestApp } from "../helpers.js";
import { SMTPSink } from "../smtp-sink.js";
import { FLAGS, SoftwareAuthenticator } from "../software-authenticator.js";

/**
 * Issue 12 finding 7 (R-OTP-6, V-4, V-5f): a lock is a recorded state that only an audited admin unlock
 * clears, and every proof path goes through the one attempt budget. Attacked two ways in the review: a
 * WebAuthn factor pending from before the lock was confirmed while locked (200 with an assertion), and
 * PATCH lock_after unlocked (raised) or locked (lowered) users without an event.
 */
const ORIGIN = "http://localhost:5173";
const RP_ID = "localhost";

describe.each(DIALECTS)("the lock is a recorded state (%s)", (dialect) => {
	let t: TestApp;
	let smtp: SMTPSink;
	beforeAll(async () => {
		smtp = new SMTPSink();
		await smtp.start();
		t = await buildTestApp({ dialect, env: { TWOFOLD_SMTP_URL: smtp.url, TWOFOLD_SMTP_FROM: "twofold@example.com" } });
		const patched = await t.call("PATCH", "/v1/tenant", { webauthn: { rp_id: RP_ID, rp_name: "Acme", origins: [ORIGIN] }, email: { enabled: true } });
		expect(patched.status, patched.body).toBe(200);
	});
	afterAll(async () => {
		await t.close();
		await smtp.stop();
	});

	const setLockAfter = async (lockAfter: number) => expect((await t.call("PATCH", "/v1/tenant", { attempts: { lock_after: lockAfter } })).status).toBe(200);
	const verify = (user: string, body: Record<string, unknown>) => t.call("POST", `/v1/users/${user}/verify`, body);
	const events = async (user: string, type: string) => (await t.call("GET", `/v1/events?user_id=${user}&type=${type}&limit=100`)).json.events as { data: Record<string, unknown>; factor_id: string | null }[];
	/** Wrong codes, each answered 422; at the allowed pace (past every throttle delay) unless told not to wait. */
	async function fail(user: string, secret: string, times: number, wait = true): Promise<void> {
		for (let i = 0; i < times; i++) {
			const wrong = codeFor(secret, t.clock()) === "000000" ? "111111" : "000000";
			expect((await verify(user, { code: wrong })).status).toBe(422);
			if (wait) t.clock.advance(301_000);
		}
	}

	it("a locked user cannot confirm a WebAuthn or TOTP factor that was pending before the lock (issue 12 #7, R-OTP-6, V-5f)", async () => {
		await setLockAfter(3);
		try {
			const { secret } = await enrollActive(t, "lk-pend");
			nextStep(t.clock);
			// Both pending factors are bound with a proof from the active one, before the lock.
			const key = new SoftwareAuthenticator(RP_ID, ORIGIN);
			const wa = await t.call("POST", "/v1/users/lk-pend/factors", { type: "webauthn", code: codeFor(secret, t.clock()) });
			expect(wa.status, wa.body).toBe(201);
			nextStep(t.clock);
			const totp = await t.call("POST", "/v1/users/lk-pend/factors", { type: "totp", code: codeFor(secret, t.clock()) });
			expect(totp.status, totp.body).toBe(201);
			// Three failures lock (under the throttle, so without waiting: the WebAuthn ceremony lasts five minutes).
			await fail("lk-pend", secret, 3, false);
			expect(await events("lk-pend", "user.locked")).toHaveLength(1);

			const waConfirm = await t.call("POST", `/v1/users/lk-pend/factors/${wa.json.factor.id}/confirm`, { credential: key.register(wa.json.webauthn.options) });
			expect(waConfirm.status, waConfirm.body).toBe(423);
			expect(waConfirm.json.error.code).toBe("locked");
			expect(waConfirm.json.assertion).toBeUndefined();
			const totpConfirm = await t.call("POST", `/v1/users/lk-pend/factors/${totp.json.factor.id}/confirm`, { code: codeFor(totp.json.totp.secret, t.clock()) });
			expect(totpConfirm.status).toBe(423);
			// Nothing was activated, and a refused attempt is not evaluated, so it does not count further.
			const factors = (await t.call("GET", "/v1/users/lk-pend/factors")).json.factors as { id: string; status: string }[];
			expect(factors.find((f) => f.id === wa.json.factor.id)?.status).toBe("pending");
			expect(factors.find((f) => f.id === totp.json.factor.id)?.status).toBe("pending");
			expect((await events("lk-pend", "factor.activated")).map((e) => e.factor_id)).not.toContain(wa.json.factor.id);
			expect((await events("lk-pend", "verification.failed"))[0]!.data.failed_attempts).toBe(3);

			// After the audited unlock the same registration response confirms: the refusal did not consume its challenge.
			expect((await t.call("POST", "/v1/users/lk-pend/unlock")).status).toBe(204);
			const after = await t.call("POST", `/v1/users/lk-pend/factors/${wa.json.factor.id}/confirm`, { credential: key.register(wa.json.webauthn.options) });
			expect(after.status, after.body).toBe(200);
		} finally {
			await setLockAfter(100);
		}
	});

	it("every other proof path refuses a locked user, even with correct proofs: verify, step-up for enroll, delete and regenerate, WebAuthn and email challenges (issue 12 #7, V-5f, R-EM-5)", async () => {
		await setLockAfter(3);
		try {
			// A user whose first factor is a passkey, with a TOTP factor added beside it.
			const key = new SoftwareAuthenticator(RP_ID, ORIGIN);
			const wa = await t.call("POST", "/v1/users/lk-all/factors", { type: "webauthn" });
			expect((await t.call("POST", `/v1/users/lk-all/factors/${wa.json.factor.id}/confirm`, { credential: key.register(wa.json.webauthn.options) })).status).toBe(200);
			const challenge = await t.call("POST", "/v1/users/lk-all/challenges", { type: "webauthn" });
			const second = await t.call("POST", "/v1/users/lk-all/factors", { type: "totp", challenge_id: challenge.json.challenge.id, credential: key.assert(challenge.json.webauthn.options) });
			expect(second.status, second.body).toBe(201);
			const secret = second.json.totp.secret as string;
			expect((await t.call("POST", `/v1/users/lk-all/factors/${second.json.factor.id}/confirm`, { code: codeFor(secret, t.clock()) })).status).toBe(200);
			// An open WebAuthn challenge from before the lock, answered correctly after it.
			const early = await t.call("POST", "/v1/users/lk-all/challenges", { type: "webauthn" });
			nextStep(t.clock);
			await fail("lk-all", secret, 3);
			nextStep(t.clock);
			const code = codeFor(secret, t.clock());
			const refusals: [string, () => Promise<{ status: number; json: any }>][] = [
				["verify with the correct TOTP code", () => verify("lk-all", { code })],
				["verify with a correct WebAuthn assertion", () => verify("lk-all", { challenge_id: early.json.challenge.id, credential: key.assert(early.json.webauthn.options) })],
				["a new WebAuthn challenge", () => t.call("POST", "/v1/users/lk-all/challenges", { type: "webauthn" })],
				["an email code", () => t.call("POST", "/v1/users/lk-all/challenges", { type: "email", to: "lk-all@example.com" })],
				["enroll with a correct code", () => t.call("POST", "/v1/users/lk-all/factors", { type: "totp", code })],
				["delete a factor with a correct code", () => t.call("DELETE", `/v1/users/lk-all/factors/${wa.json.factor.id}`, { code })],
				["regenerate recovery codes with a correct code", () => t.call("POST", "/v1/users/lk-all/recovery-codes", { code })],
			];
			for (const [name, attempt] of refusals) {
				const res = await attempt();
				expect(res.status, name).toBe(423);
				expect(res.json.error.code, name).toBe("locked");
			}
			expect((await events("lk-all", "verification.failed"))[0]!.data.failed_attempts).toBe(3);
		} finally {
			await setLockAfter(100);
		}
	});

	it("a refused WebAuthn registration is a counted attempt: throttled after five like wrong codes (issue 12 #7, V-5f, R-WA-2)", async () => {
		const key = new SoftwareAuthenticator(RP_ID, ORIGIN);
		const bent = [{ origin: "https://evil.example" }, { flags: FLAGS.UP | FLAGS.AT }, { rpId: "example.com" }, { origin: "http://sub.localhost:5173" }, { type: "webauthn.get" }];
		for (const bend of bent) {
			const wa = await t.call("POST", "/v1/users/lk-reg/factors", { type: "webauthn" });
			const res = await t.call("POST", `/v1/users/lk-reg/factors/${wa.json.factor.id}/confirm`, { credential: key.register(wa.json.webauthn.options, bend) });
			expect(res.json.error.code, JSON.stringify(bend)).toBe("invalid_credential");
			// A refused registration leaves its factor pending; removed (no proof needed) so the pending cap stays out of the way.
			expect((await t.call("DELETE", `/v1/users/lk-reg/factors/${wa.json.factor.id}`)).status).toBe(204);
		}
		const failed = await events("lk-reg", "verification.failed");
		expect(failed.map((e) => e.data)).toEqual([5, 4, 3, 2, 1].map((n) => ({ purpose: "confirm", reason: "invalid_credential", failed_attempts: n })));
		// The sixth, a correct registration, waits for the throttle like any proof.
		const wa = await t.call("POST", "/v1/users/lk-reg/factors", { type: "webauthn" });
		const throttled = await t.call("POST", `/v1/users/lk-reg/factors/${wa.json.factor.id}/confirm`, { credential: key.register(wa.json.webauthn.options) });
		expect(throttled.status).toBe(429);
		expect(throttled.headers["retry-after"]).toBe("1");
		t.clock.advance(1000);
		expect((await t.call("POST", `/v1/users/lk-reg/factors/${wa.json.factor.id}/confirm`, { credential: key.register(wa.json.webauthn.options) })).status).toBe(200);
	});

	it("raising lock_after unlocks no one; only the admin unlock does, with its event (issue 12 #7, R-OTP-6)", async () => {
		await setLockAfter(3);
		const { secret } = await enrollActive(t, "lk-raise");
		await fail("lk-raise", secret, 3);
		await setLockAfter(100);
		nextStep(t.clock);
		const correct = await verify("lk-raise", { code: codeFor(secret, t.clock()) });
		expect(correct.status).toBe(423);
		expect((await t.call("GET", "/v1/users/lk-raise")).json.locked).toBe(true);
		expect((await t.call("POST", "/v1/users/lk-raise/challenges", { type: "email", to: "lk-raise@example.com" })).status).toBe(423);
		expect(await events("lk-raise", "user.unlocked")).toHaveLength(0);
		expect((await t.call("POST", "/v1/users/lk-raise/unlock")).status).toBe(204);
		expect(await events("lk-raise", "user.unlocked")).toHaveLength(1);
		expect((await t.call("GET", "/v1/users/lk-raise")).json.locked).toBe(false);
		expect((await verify("lk-raise", { code: codeFor(secret, t.clock()) })).status).toBe(200);
	});

	it("lowering lock_after locks no one by itself; the next failure over it locks, with its user.locked event (issue 12 #7, R-OTP-6, R-LC-6)", async () => {
		const { secret } = await enrollActive(t, "lk-lower");
		await fail("lk-lower", secret, 10);
		await setLockAfter(3);
		try {
			expect((await t.call("GET", "/v1/users/lk-lower")).json.locked).toBe(false);
			expect(await events("lk-lower", "user.locked")).toHaveLength(0);
			await fail("lk-lower", secret, 1);
			expect((await t.call("GET", "/v1/users/lk-lower")).json.locked).toBe(true);
			expect((await events("lk-lower", "user.locked")).map((e) => e.data)).toEqual([{ failed_attempts: 11 }]);
			nextStep(t.clock);
			expect((await verify("lk-lower", { code: codeFor(secret, t.clock()) })).status).toBe(423);
		} finally {
			await setLockAfter(100);
		}
		// Raising it back does not unlock either.
		expect((await verify("lk-lower", { code: codeFor(secret, t.clock()) })).status).toBe(423);
	});
});

/**
 * The upgrade (migration 2026-11-29-lock-recorded-lock): users locked under the old rule (failures at or over
 * their tenant's lock_after) stay locked, users under it stay unlocked, whatever locked_at said before.
 */
describe.each(DIALECTS)("the upgrade to a recorded lock unlocks no one (%s)", (dialect) => {
	let dataDir: string;
	let pgSchema: Awaited<ReturnType<typeof createPostgresSchema>> | undefined;
	beforeAll(async () => {
		dataDir = mkdtempSync(join(tmpdir(), "twofold-lock-migration-"));
		pgSchema = dialect === "postgres" ? await createPostgresSchema() : undefined;
	});
	afterAll(async () => {
		await pgSchema?.drop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	it("stamps users at or over lock_after as locked and clears stale stamps under it (issue 12 #7, R-OTP-6)", async () => {
		const { db } = createKysely(pgSchema === undefined ? { sqlitePath: join(dataDir, "twofold.db") } : { databaseURL: pgSchema.url, sqlitePath: "" });
		try {
			const schema = dialect === "postgres" ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]!.schema : undefined;
			const migrator = new Migrator({ db, provider: migrationProvider(dialect), ...(schema === undefined ? {} : { migrationTableSchema: schema }) });
			const before = await migrator.migrateTo("2026-11-23-005-user-email");
			expect(before.error).toBeUndefined();
			const any = db as any;
			await any.insertInto("tenants").values([
				{ id: "ten_low", name: "low", settings: JSON.stringify({ issuer: "low", attempts: { throttle_after: 5, lock_after: 3 } }), created_at: 1 },
				{ id: "ten_default", name: "default", settings: JSON.stringify({ issuer: "default" }), created_at: 1 },
			]).execute();
			const user = (tenant: string, id: string, failed: number, lockedAt: number | null) => ({ tenant_id: tenant, id, created_at: 1, failed_attempts: failed, next_attempt_at: 0, locked_at: lockedAt, email: null });
			await any.insertInto("users").values([
				user("ten_low", "locked-at-limit", 3, 1234),
				// Over a limit that was lowered after its failures: locked by the old rule, without a stamp.
				user("ten_low", "over-unstamped", 7, null),
				// Locked once at a lower limit, then the limit was raised and it succeeded: not locked by the old rule.
				user("ten_low", "under-stale-stamp", 0, 999),
				user("ten_low", "under", 2, null),
				user("ten_default", "hundred", 100, null),
				user("ten_default", "ninety-nine", 99, null),
			]).execute();

			const after = await migrator.migrateToLatest();
			expect(after.error).toBeUndefined();
			expect(after.results?.map((r) => r.migrationName)).toContain("2026-11-29-lock-recorded-lock");
			const rows = (await any.selectFrom("users").select(["id", "locked_at", "record_expires_at"]).orderBy("id").execute()) as { id: string; locked_at: number | string | null; record_expires_at: unknown }[];
			const locked = Object.fromEntries(rows.map((row) => [row.id, row.locked_at === null ? null : Number(row.locked_at)]));
			expect(locked["locked-at-limit"]).toBe(1234);
			expect(locked["over-unstamped"]).toEqual(expect.any(Number));
			expect(locked.hundred).toEqual(expect.any(Number));
			expect(locked["under-stale-stamp"]).toBeNull();
			expect(locked.under).toBeNull();
			expect(locked["ninety-nine"]).toBeNull();
			// Every existing row is a user Twofold knows, not an attempt record.
			expect(rows.every((row) => row.record_expires_at === null)).toBe(true);
		} finally {
			await db.destroy();
		}
	});
});
