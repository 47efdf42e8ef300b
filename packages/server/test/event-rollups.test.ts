import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOUR_MS } from "../src/core/event-rollup.js";
import { FOLD_LAG_MS, foldEventRollups, tenantOverview } from "../src/services/event-rollups.js";
import { up as rollupMigration } from "../src/store/migrations/2026-12-05-001-event-rollups.js";
import { type ConsoleDriver, listenForConsole } from "./console-browser.js";
import { buildTestApp, codeFor, DIALECTS, enrollActive, nextStep, type TestApp } from "./helpers.js";
import type { Browser } from "./prompt-browser.js";

/**
 * Issue 16's overview: per-hour counts and gauges folded from the audit events beside the service. The oracle is the
 * events table itself: what the fold added up must equal what a GROUP BY over the events counts, whatever the order
 * of folds, their batch size, or two folds at once.
 */
describe.each(DIALECTS)("event rollups (%s)", (dialect) => {
	let t: TestApp;
	let d: ConsoleDriver;
	let viewer: Browser;
	let other: { tenantId: string; apiKey: string };
	const db = (): Kysely<any> => (t.app.services.deps.store as unknown as { db: Kysely<any> }).db;
	const deps = () => t.app.services.deps;

	/** The oracle: hourly counts straight from the events table, for events older than the fold's lag. */
	async function countedFromEvents(tenantId: string): Promise<Record<string, number>> {
		const rows = await db().selectFrom("events").select(["type", "data", "created_at"]).where("tenant_id", "=", tenantId).where("created_at", "<", t.clock().getTime() - FOLD_LAG_MS).execute();
		const counts: Record<string, number> = {};
		for (const row of rows) {
			const method = (JSON.parse(row.data) as { method?: string }).method;
			const metric =
				row.type === "verification.succeeded" ? `verify.ok.${method}` : row.type === "verification.failed" ? "verify.failed" : row.type === "verification.replay_rejected" ? "verify.replayed" : row.type === "user.locked" ? "lockouts" : undefined;
			if (metric !== undefined) counts[metric] = (counts[metric] ?? 0) + 1;
		}
		return counts;
	}
	async function rolledUp(tenantId: string): Promise<Record<string, number>> {
		const rows = await deps().store.rollups.counts(tenantId, 0);
		const sums: Record<string, number> = {};
		for (const row of rows) sums[row.metric] = (sums[row.metric] ?? 0) + row.count;
		return sums;
	}
	async function gauges(tenantId: string): Promise<Record<string, number>> {
		return Object.fromEntries((await deps().store.rollups.gauges(tenantId)).filter((row) => row.value !== 0).map((row) => [row.metric, row.value]));
	}

	beforeAll(async () => {
		t = await buildTestApp({ dialect, env: { TWOFOLD_WEBHOOK_ALLOW_PRIVATE: "true" } });
		d = await listenForConsole(t);
		expect((await t.call("PATCH", "/v1/tenant", { attempts: { lock_after: 3 } })).status).toBe(200);
		const b = await t.app.services.tenants.create("bank-b");
		other = { tenantId: b.tenant.id, apiKey: b.apiKey };
		viewer = await d.operator(() => t.app.services.operators.create({ name: "vera", role: "viewer", tenants: [t.tenantId] }), "vera");
		// Whatever signing in wrote is folded now, so each test starts from a cursor at the newest event.
		t.clock.advance(FOLD_LAG_MS + 1);
		await foldEventRollups(deps());
	});
	afterAll(() => t?.close());

	it("counts verifications by method, failures, replays and lockouts per hour, once the events are two minutes old", async () => {
		const alice = await enrollActive(t, "alice");
		nextStep(t.clock);
		const code = codeFor(alice.secret, t.clock());
		expect((await t.call("POST", "/v1/users/alice/verify", { code })).status).toBe(200);
		expect((await t.call("POST", "/v1/users/alice/verify", { code })).status).toBe(422);
		expect((await t.call("POST", "/v1/users/alice/verify", { code: alice.recoveryCodes[0] })).status).toBe(200);
		await enrollActive(t, "bob");
		for (let i = 0; i < 3; i++) await t.call("POST", "/v1/users/bob/verify", { code: "000000" });
		expect((await t.call("GET", "/v1/users/bob")).json.locked).toBe(true);
		// Tenant B's events count for tenant B only.
		await t.call("POST", "/v1/users/b-user/verify", { code: "000000" }, other.apiKey);

		// Within the lag nothing is folded: an event this young may have an uncommitted predecessor in seq order.
		expect((await foldEventRollups(deps())).folded).toBe(0);
		expect(await rolledUp(t.tenantId)).toEqual({});

		t.clock.advance(FOLD_LAG_MS + 1_000);
		const pass = await foldEventRollups(deps());
		expect(pass.folded).toBeGreaterThan(10);
		const expected = await countedFromEvents(t.tenantId);
		expect(expected).toMatchObject({ "verify.ok.totp": 1, "verify.ok.recovery_code": 1, "verify.replayed": 1, lockouts: 1 });
		expect(expected["verify.failed"]).toBeGreaterThanOrEqual(3);
		expect(await rolledUp(t.tenantId)).toEqual(expected);
		expect(await rolledUp(other.tenantId)).toEqual(await countedFromEvents(other.tenantId));
		// Folding again adds nothing: the cursor moved past them.
		expect((await foldEventRollups(deps())).folded).toBe(0);
		expect(await rolledUp(t.tenantId)).toEqual(expected);

		const overview = await tenantOverview(deps(), await t.app.services.console.context((await t.app.services.operators.list())[0]!, t.tenantId, "viewer"));
		expect(overview.day.hours).toHaveLength(24);
		expect(overview.week.hours).toHaveLength(168);
		expect(overview.day.values["verify.ok.totp"].reduce((a, b) => a + b, 0)).toBe(1);
		expect(overview.day.values.lockouts.at(-1)).toBe(1);
	});

	it("keeps the gauges exact as factors come and go: enrolled, removed, reset, erased", async () => {
		t.clock.advance(FOLD_LAG_MS + 1_000);
		await foldEventRollups(deps());
		// alice and bob from the test before; each has one authenticator app.
		expect(await gauges(t.tenantId)).toEqual({ "users.any": 2, "users.totp": 2 });
		const carol = await enrollActive(t, "carol");
		nextStep(t.clock);
		const second = await t.call("POST", "/v1/users/carol/factors", { type: "hotp", code: codeFor(carol.secret, t.clock()) });
		expect(second.status, second.body).toBe(201);
		t.clock.advance(FOLD_LAG_MS + 1_000);
		await foldEventRollups(deps());
		// carol's HOTP factor is pending: not counted until confirmed.
		expect(await gauges(t.tenantId)).toEqual({ "users.any": 3, "users.totp": 3 });
		expect((await t.call("DELETE", `/v1/users/carol/factors/${carol.factorId}`, { reason: "test" })).status).toBeLessThan(300);
		expect((await t.call("POST", "/v1/users/bob/reset", { reason: "lost phone" })).status).toBe(200);
		expect((await t.call("DELETE", "/v1/users/alice")).status).toBeLessThan(300);
		t.clock.advance(FOLD_LAG_MS + 1_000);
		await foldEventRollups(deps());
		expect(await gauges(t.tenantId)).toEqual({});
		// The census holds only users with an active factor.
		expect(await db().selectFrom("factor_census").selectAll().where("tenant_id", "=", t.tenantId).execute()).toEqual([]);
	});

	it("two folds at once, in small batches, count every event exactly once", async () => {
		for (let i = 0; i < 4; i++) await enrollActive(t, `dave-${i}`);
		for (let i = 0; i < 40; i++) await t.call("POST", `/v1/users/dave-${i % 4}/verify`, { code: "999999" });
		t.clock.advance(FOLD_LAG_MS + 1_000);
		const passes = await Promise.all([foldEventRollups(deps(), { batch: 7 }), foldEventRollups(deps(), { batch: 5 }), foldEventRollups(deps(), { batch: 3, maxBatches: 4 })]);
		while ((await foldEventRollups(deps(), { batch: 11 })).folded > 0);
		// 3 failures each lock a user (lock_after 3); the attempts after that are refused before any evaluation.
		expect(passes.reduce((sum, pass) => sum + pass.folded, 0)).toBeGreaterThan(16);
		expect(await rolledUp(t.tenantId)).toEqual(await countedFromEvents(t.tenantId));
		expect(await gauges(t.tenantId)).toEqual({ "users.any": 4, "users.totp": 4 });
	});

	it("the migration starts an existing database from what it holds: the same gauges and counts as the fold", async () => {
		t.clock.advance(FOLD_LAG_MS + 1_000);
		await foldEventRollups(deps());
		const folded = { counts: await rolledUp(t.tenantId), gauges: await gauges(t.tenantId) };
		for (const table of ["event_rollups", "rollup_gauges", "factor_census", "rollup_cursor"]) await sql`DROP TABLE ${sql.table(table)}`.execute(db());
		// The migration backfills from the real clock's last 8 days; the test clock is the real one moved by minutes.
		await rollupMigration(db());
		expect({ counts: await rolledUp(t.tenantId), gauges: await gauges(t.tenantId) }).toEqual(folded);
		expect((await deps().store.rollups.position()).cursor).toBe((await deps().store.rollups.position()).newest);
	});

	it("drops hourly counts past 8 days", async () => {
		await deps().store.rollups.addCounts([{ tenant_id: t.tenantId, hour: Math.floor((t.clock().getTime() - 9 * 24 * HOUR_MS) / HOUR_MS) * HOUR_MS, metric: "lockouts", count: 5 }]);
		const before = (await deps().store.rollups.counts(t.tenantId, 0)).length;
		await foldEventRollups(deps());
		expect((await deps().store.rollups.counts(t.tenantId, 0)).length).toBe(before - 1);
	});

	it("the console's overview page shows them to a viewer, escaped, and another tenant's overview is not found", async () => {
		const hook = await t.call("POST", "/v1/webhooks", { url: "http://127.0.0.1:9/<script>x</script>?a=\"onmouseover=x", events: ["*"] });
		expect(hook.status, hook.body).toBe(201);
		// The tests before moved the clock past the console's idle timeout: a fresh sign-in.
		viewer = await d.signedIn("vera");
		const response = await viewer.fetch(`/console/t/${t.tenantId}`);
		expect(response.status).toBe(200);
		const html = await response.text();
		expect(html).toContain('id="gauge-users">4<');
		expect(html).toContain('role="img"');
		expect(html).toContain('id="day-table"');
		// The endpoint is listed (its URL as the API stored it), with nothing of it read as markup.
		expect(html).toContain(hook.json.webhook.id);
		expect(html).not.toMatch(/<script>x|"onmouseover=/);
		expect((await viewer.fetch(`/console/t/${other.tenantId}`)).status).toBe(404);
		expect((await viewer.fetch("/console/t/ten_00000000000000000000000000")).status).toBe(404);
	});
});
