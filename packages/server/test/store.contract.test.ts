import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type StoreHandle } from "../src/store/kysely-store.js";
import type { FactorTable } from "../src/store/tables.js";
import { createPostgresSchema, DIALECTS } from "./helpers.js";

/** One contract, every dialect (Kysely's loop): the store behaves the same on SQLite and PostgreSQL. */
describe.each(DIALECTS)("store contract (%s)", (dialect) => {
	let store: StoreHandle;
	let location: { databaseURL?: string; sqlitePath: string };
	let cleanup: () => Promise<void>;
	const tenant = "ten_contract";

	beforeAll(async () => {
		if (dialect === "postgres") {
			const schema = await createPostgresSchema();
			location = { databaseURL: schema.url, sqlitePath: "" };
			store = openStore(location);
			cleanup = async () => {
				await store.close();
				await schema.drop();
			};
		} else {
			const dir = mkdtempSync(join(tmpdir(), "twofold-store-"));
			location = { sqlitePath: join(dir, "t.db") };
			store = openStore(location);
			cleanup = async () => {
				await store.close();
				rmSync(dir, { recursive: true, force: true });
			};
		}
		await store.checkDurability();
		await store.migrate();
		await store.tenants.insert({ id: tenant, name: "c", settings: "{}", created_at: 1 });
	});
	afterAll(() => cleanup());

	function factor(userId: string, overrides: Partial<FactorTable> = {}): FactorTable {
		return {
			id: `fac_${randomBytes(8).toString("hex")}`,
			tenant_id: tenant,
			user_id: userId,
			type: "totp",
			status: "active",
			label: userId,
			secret_envelope: "v1.k.n.c",
			algorithm: "SHA1",
			digits: 6,
			period: 30,
			last_used_step: -1,
			created_at: 1,
			expires_at: null,
			activated_at: 1,
			last_used_at: null,
			deleted_at: null,
			// The import columns (issue 17) as every row reads them back: their defaults unless imported.
			import_ref: null,
			import_job_id: null,
			weak_secret: 0,
			needs_resync: 0,
			...overrides,
		};
	}

	it("reads see this process's writes at once, another process's from the next event-loop turn (read-snapshot.ts)", async () => {
		const key = (id: string) => ({ id, tenant_id: tenant, secret_hash: "h", scope: "default" as const, created_at: 1, revoked_at: null, last_used_at: null });
		const [a, b, c] = ["a", "b", "c"].map((s) => `key_rw_${s}_${dialect}`) as [string, string, string];
		await store.apiKeys.insert(key(a));
		await store.apiKeys.insert(key(b));
		await store.apiKeys.insert(key(c));
		// All in one turn: the first read opens the reader's snapshot; each write must end it.
		expect(await store.apiKeys.findActive(a)).toBeDefined();
		expect(await store.apiKeys.revoke(a, 2)).toBe(true);
		expect(await store.apiKeys.findActive(a)).toBeUndefined();
		expect(await store.apiKeys.findActive(b)).toBeDefined();
		await store.transaction((tx) => tx.apiKeys.revoke(b, 3));
		expect(await store.apiKeys.findActive(b)).toBeUndefined();
		// Another process (the CLI revoking a key while the server runs): seen by the next turn at the latest.
		const other = openStore(location);
		try {
			expect(await store.apiKeys.findActive(c)).toBeDefined();
			expect(await other.apiKeys.revoke(c, 4)).toBe(true);
			await new Promise((resolve) => setImmediate(resolve));
			expect(await store.apiKeys.findActive(c)).toBeUndefined();
		} finally {
			await other.close();
		}
	});

	it("migrations are idempotent", async () => {
		expect(await store.migrate()).toEqual([]);
	});

	it("round-trips large millisecond times and steps exactly (int8 on PostgreSQL)", async () => {
		await store.users.ensure(tenant, "times", 20000000000_000);
		const row = factor("times", { last_used_step: 666666666, created_at: 20000000000_123 });
		await store.factors.insert(row);
		const read = await store.factors.find(tenant, "times", row.id);
		expect(read).toEqual(row);
		expect(typeof read!.created_at).toBe("number");
	});

	it("consumeCounters spends a run of counters whole or not at all: refused once its first is used (R-OTP-1, HOTP resync)", async () => {
		await store.users.ensure(tenant, "counters", 1);
		const row = factor("counters");
		await store.factors.insert(row);
		expect(await store.factors.consumeCounters(tenant, "someone-else", row.id, 10, 11, 2)).toBe(false);
		expect(await store.factors.consumeStep(tenant, row.user_id, row.id, 10, 2)).toBe(true);
		// 10 was just accepted by a verify: a resync presenting 10 and 11 must not spend 10 a second time.
		expect(await store.factors.consumeCounters(tenant, row.user_id, row.id, 10, 11, 3)).toBe(false);
		expect((await store.factors.find(tenant, row.user_id, row.id))!.last_used_step).toBe(10);
		expect(await store.factors.consumeCounters(tenant, row.user_id, row.id, 11, 12, 4)).toBe(true);
		expect((await store.factors.find(tenant, row.user_id, row.id))!.last_used_step).toBe(12);
		expect(await store.factors.consumeCounters(tenant, row.user_id, row.id, 12, 13, 5)).toBe(false);
	});

	it("consumeStep accepts only a strictly greater step, once (R-OTP-1)", async () => {
		await store.users.ensure(tenant, "steps", 1);
		const row = factor("steps");
		await store.factors.insert(row);
		// Keyed by tenant and user too: another user's (or tenant's) id never matches (tenant isolation).
		expect(await store.factors.consumeStep(tenant, "someone-else", row.id, 100, 2)).toBe(false);
		expect(await store.factors.consumeStep("ten_other", row.user_id, row.id, 100, 2)).toBe(false);
		expect(await store.factors.consumeStep(tenant, row.user_id, row.id, 100, 2)).toBe(true);
		expect(await store.factors.consumeStep(tenant, row.user_id, row.id, 100, 3)).toBe(false);
		expect(await store.factors.consumeStep(tenant, row.user_id, row.id, 99, 3)).toBe(false);
		expect(await store.factors.consumeStep(tenant, row.user_id, row.id, 101, 4)).toBe(true);
		expect(await store.factors.markDeleted(tenant, row.user_id, row.id, 5)).toBe(true);
		expect(await store.factors.consumeStep(tenant, row.user_id, row.id, 102, 6)).toBe(false);
		expect(await store.factors.markDeleted(tenant, row.user_id, row.id, 7)).toBe(false);
	});

	it("50 concurrent consumeStep calls for one step: exactly one wins (V-3)", async () => {
		await store.users.ensure(tenant, "race", 1);
		const row = factor("race");
		await store.factors.insert(row);
		const results = await Promise.all(Array.from({ length: 50 }, () => store.transaction((tx) => tx.factors.consumeStep(tenant, row.user_id, row.id, 7, 1))));
		expect(results.filter(Boolean)).toHaveLength(1);
	});

	it("activate needs a pending, unexpired factor", async () => {
		await store.users.ensure(tenant, "pend", 1);
		const fresh = factor("pend", { status: "pending", expires_at: 1000, activated_at: null });
		const stale = factor("pend", { status: "pending", expires_at: 10, activated_at: null });
		await store.factors.insert(fresh);
		await store.factors.insert(stale);
		expect(await store.factors.activate(tenant, "pend", stale.id, 5, 11)).toBe(false);
		expect(await store.factors.activate(tenant, "pend", fresh.id, 5, 11)).toBe(true);
		expect(await store.factors.activate(tenant, "pend", fresh.id, 6, 12)).toBe(false);
		expect(await store.factors.find(tenant, "pend", fresh.id)).toMatchObject({ status: "active", last_used_step: 5, expires_at: null });
	});

	it("discardPending removes only the listed factors that are still pending, with their registration challenges (issue 12)", async () => {
		await store.users.ensure(tenant, "discard", 1);
		const pending = factor("discard", { status: "pending", expires_at: 1000, activated_at: null, type: "webauthn" });
		const active = factor("discard");
		const other = factor("discard", { status: "pending", expires_at: 1000, activated_at: null });
		for (const row of [pending, active, other]) await store.factors.insert(row);
		await store.challenges.insert({
			tenant_id: tenant, user_id: "discard", id: "chl_discard", ceremony: "registration", factor_id: pending.id,
			challenge: "x", user_handle: "h", created_at: 1, expires_at: 10_000, consumed_at: null,
		});
		expect(await store.factors.discardPending(tenant, "discard", [pending.id, active.id])).toEqual([pending.id]);
		expect(await store.factors.discardPending(tenant, "other-user", [other.id])).toEqual([]);
		expect((await store.factors.listForUser(tenant, "discard")).map((row) => row.id).sort()).toEqual([active.id, other.id].sort());
		expect(await store.challenges.findRegistration(tenant, "discard", pending.id)).toBeUndefined();
	});

	it("lockForAttempt holds the row: 30 concurrent read-then-write attempts lose no update (V-3)", async () => {
		await store.users.ensure(tenant, "budget", 1);
		await Promise.all(
			Array.from({ length: 30 }, () =>
				store.transaction(async (tx) => {
					const state = await tx.users.lockForAttempt(tenant, "budget");
					// Widen the window between read and write: without the lock, updates would be lost.
					await new Promise((resolve) => setTimeout(resolve, 2));
					await tx.users.recordFailure(tenant, "budget", state!.user.failed_attempts + 1, 0, null);
				}),
			),
		);
		expect((await store.users.find(tenant, "budget"))!.failed_attempts).toBe(30);
		await store.users.recordFailure(tenant, "budget", 100, 5, 7);
		expect(await store.users.find(tenant, "budget")).toMatchObject({ failed_attempts: 100, next_attempt_at: 5, locked_at: 7 });
		await store.users.clearFailures(tenant, "budget");
		expect(await store.users.find(tenant, "budget")).toMatchObject({ failed_attempts: 0, next_attempt_at: 0, locked_at: 7 });
		expect(await store.users.unlock(tenant, "budget")).toBe(true);
		expect((await store.users.find(tenant, "budget"))!.locked_at).toBeNull();
		expect(await store.users.lockForAttempt(tenant, "nobody")).toBeUndefined();
	});

	it("lockForAttempt brings the live factors and the unused recovery-code count in one read", async () => {
		await store.users.ensure(tenant, "state", 1);
		const live = [factor("state", { created_at: 2 }), factor("state", { status: "pending", created_at: 3 })];
		for (const row of [...live, factor("state", { status: "deleted", created_at: 1 })]) await store.factors.insert(row);
		await store.recoveryCodes.insertMany(
			["x", "y", "z"].map((s, i) => ({ id: `rc_${s}${dialect}`, tenant_id: tenant, user_id: "state", salt: s, hash: s, created_at: 1, used_at: i === 0 ? 5 : null })),
		);
		const state = await store.transaction((tx) => tx.users.lockForAttempt(tenant, "state"));
		expect(state!.user).toMatchObject({ tenant_id: tenant, id: "state", failed_attempts: 0 });
		expect(state!.recoveryCodesRemaining).toBe(2);
		expect(state!.factors).toEqual(live);
		await store.users.ensure(tenant, "bare", 1);
		expect(await store.transaction((tx) => tx.users.lockForAttempt(tenant, "bare"))).toMatchObject({ factors: [], recoveryCodesRemaining: 0 });
	});

	it("recovery codes are consumed once, also concurrently (R-RC-3)", async () => {
		await store.users.ensure(tenant, "rc", 1);
		await store.recoveryCodes.insertMany(
			["a", "b"].map((s) => ({ id: `rc_${s}${dialect}`, tenant_id: tenant, user_id: "rc", salt: s, hash: s, created_at: 1, used_at: null })),
		);
		const results = await Promise.all(Array.from({ length: 20 }, () => store.transaction((tx) => tx.recoveryCodes.consume(tenant, "rc", `rc_a${dialect}`, 5))));
		expect(results.filter(Boolean)).toHaveLength(1);
		expect(await store.recoveryCodes.countUnused(tenant, "rc")).toBe(1);
		await store.recoveryCodes.deleteForUser(tenant, "rc");
		expect(await store.recoveryCodes.countUnused(tenant, "rc")).toBe(0);
	});

	it("a failed transaction leaves nothing; its neighbours in the same group commit are unaffected", async () => {
		const outcomes = await Promise.allSettled([
			store.transaction(async (tx) => tx.users.ensure(tenant, "keep-1", 1)),
			store.transaction(async (tx) => {
				await tx.users.ensure(tenant, "drop", 1);
				throw new Error("rolled back");
			}),
			store.transaction(async (tx) => tx.users.ensure(tenant, "keep-2", 1)),
		]);
		expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
		expect(await store.users.find(tenant, "keep-1")).toBeDefined();
		expect(await store.users.find(tenant, "keep-2")).toBeDefined();
		expect(await store.users.find(tenant, "drop")).toBeUndefined();
	});

	it("deleting a user removes its factors and codes", async () => {
		await store.users.ensure(tenant, "gone", 1);
		await store.factors.insert(factor("gone"));
		expect(await store.users.delete(tenant, "gone")).toBe(true);
		expect(await store.factors.listForUser(tenant, "gone")).toEqual([]);
		expect(await store.users.delete(tenant, "gone")).toBe(false);
	});

	it("lists events newest first with filters and a cursor", async () => {
		for (const [i, type] of ["a", "b", "a"].entries()) {
			await store.events.append({ id: `evt_${dialect}${i}`, tenant_id: tenant, user_id: "ev", type, factor_id: null, data: "{}", created_at: i });
		}
		const all = await store.events.list(tenant, { userId: "ev", limit: 10 });
		expect(all.map((e) => e.id)).toEqual([2, 1, 0].map((i) => `evt_${dialect}${i}`));
		expect((await store.events.list(tenant, { userId: "ev", type: "a", limit: 10 })).map((e) => e.created_at)).toEqual([2, 0]);
		expect((await store.events.list(tenant, { userId: "ev", limit: 10, beforeSeq: all[0]!.seq })).map((e) => e.created_at)).toEqual([1, 0]);
	});
	it("oidc_payloads (issue 15): upsert replaces, expired rows are not found, consume is single-use, revokeByGrantId takes only the grant's rows of the named models", async () => {
		const row = (id: string, overrides: Record<string, unknown> = {}) => ({
			tenant_id: tenant,
			model: "AuthorizationCode",
			id_hash: id,
			grant_id: "grant-1",
			uid_hash: null,
			payload: JSON.stringify({ n: 1 }),
			expires_at: 10_000,
			consumed_at: null,
			...overrides,
		});
		await store.oidcPayloads.upsert(row("a"));
		await store.oidcPayloads.upsert(row("a", { payload: JSON.stringify({ n: 2 }) }));
		expect(JSON.parse((await store.oidcPayloads.find(tenant, "AuthorizationCode", "a", 5_000))!.payload)).toEqual({ n: 2 });
		expect(await store.oidcPayloads.find(tenant, "AuthorizationCode", "a", 10_000)).toBeUndefined();
		expect(await store.oidcPayloads.find("ten_other", "AuthorizationCode", "a", 5_000)).toBeUndefined();
		const [first, second] = await Promise.all([store.oidcPayloads.consume(tenant, "AuthorizationCode", "a", 5_000), store.oidcPayloads.consume(tenant, "AuthorizationCode", "a", 5_001)]);
		expect([first, second].filter(Boolean)).toHaveLength(1);
		expect((await store.oidcPayloads.find(tenant, "AuthorizationCode", "a", 5_000))!.consumed_at).not.toBeNull();
		await store.oidcPayloads.upsert(row("s", { model: "Session", grant_id: null, uid_hash: "u1" }));
		expect((await store.oidcPayloads.findByUid(tenant, "Session", "u1", 5_000))!.id_hash).toBe("s");
		await store.oidcPayloads.upsert(row("b"));
		await store.oidcPayloads.upsert(row("c", { model: "AccessToken" }));
		await store.oidcPayloads.upsert(row("d", { grant_id: "grant-2" }));
		await store.oidcPayloads.revokeByGrantId(tenant, ["AuthorizationCode"], "grant-1");
		expect(await store.oidcPayloads.find(tenant, "AuthorizationCode", "b", 5_000)).toBeUndefined();
		expect(await store.oidcPayloads.find(tenant, "AccessToken", "c", 5_000)).toBeDefined();
		expect(await store.oidcPayloads.find(tenant, "AuthorizationCode", "d", 5_000)).toBeDefined();
		await store.oidcPayloads.destroy(tenant, "AccessToken", "c");
		expect(await store.oidcPayloads.find(tenant, "AccessToken", "c", 5_000)).toBeUndefined();
		expect(await store.oidcPayloads.deleteExpired(20_000, 100)).toBeGreaterThanOrEqual(2);
		expect(await store.oidcPayloads.find(tenant, "Session", "s", 0)).toBeUndefined();
	});

	it("clients (issue 15): found, changed and deleted only within their tenant", async () => {
		const client = {
			tenant_id: tenant,
			id: "cli_contract",
			name: "Shop",
			redirect_uris: JSON.stringify(["https://shop.example/cb"]),
			post_logout_redirect_uris: "[]",
			token_endpoint_auth_method: "client_secret_basic" as const,
			jwks: null,
			id_token_signed_response_alg: "RS256" as const,
			secret_envelope: "v1.k.n.c",
			created_at: 1,
			updated_at: 1,
		};
		await store.tenants.insert({ id: "ten_contract_other", name: "o", settings: "{}", created_at: 1 });
		await store.clients.insert(client);
		expect(await store.clients.find(tenant, client.id)).toEqual(client);
		expect(await store.clients.find("ten_contract_other", client.id)).toBeUndefined();
		expect(await store.clients.update("ten_contract_other", client.id, { name: "x" })).toBe(false);
		expect(await store.clients.delete("ten_contract_other", client.id)).toBe(false);
		expect(await store.clients.update(tenant, client.id, { name: "Shop 2", updated_at: 2 })).toBe(true);
		expect((await store.clients.list(tenant)).map((row) => row.name)).toEqual(["Shop 2"]);
		expect(await store.clients.delete(tenant, client.id)).toBe(true);
		expect(await store.clients.list(tenant)).toEqual([]);
	});

	it("prompt sessions: bound to cookie hash, tenant and interaction; live rows only; updated, deleted and swept (issue 15)", async () => {
		await store.tenants.insert({ id: "ten_other_prompt", name: "o", settings: "{}", created_at: 1 });
		const row = {
			id_hash: `h_${dialect}`,
			tenant_id: tenant,
			interaction_uid: "uid_1",
			user_id: "alice",
			proved_at: null,
			proved_method: null,
			proof_envelope: null,
			pending_factor_id: null,
			enrollment_envelope: null,
			recovery_codes_envelope: null,
			email_challenge_id: null,
			created_at: 20000000000_000,
			expires_at: 20000000600_000,
		};
		await store.promptSessions.insert(row);
		// The same browser in a second interaction (another tab): its own row under the same cookie hash.
		await store.promptSessions.insert({ ...row, interaction_uid: "uid_2", user_id: "alice2" });
		expect(await store.promptSessions.find(row.id_hash, tenant, "uid_1", 20000000000_001)).toEqual(row);
		// Another tenant, another interaction or another cookie never matches (bound to all three).
		expect(await store.promptSessions.find(row.id_hash, "ten_other_prompt", "uid_1", 20000000000_001)).toBeUndefined();
		expect(await store.promptSessions.find(row.id_hash, tenant, "uid_3", 20000000000_001)).toBeUndefined();
		expect(await store.promptSessions.find("h_other", tenant, "uid_1", 20000000000_001)).toBeUndefined();
		// Expired is gone for reads and writes.
		expect(await store.promptSessions.find(row.id_hash, tenant, "uid_1", row.expires_at)).toBeUndefined();
		expect(await store.promptSessions.update(row.id_hash, tenant, "uid_1", row.expires_at, { proved_at: 5 })).toBe(false);

		expect(await store.promptSessions.update(row.id_hash, tenant, "uid_1", 20000000000_002, { proved_at: 20000000000_002, proved_method: "totp", proof_envelope: "v1.k.n.c" })).toBe(true);
		expect(await store.promptSessions.update(row.id_hash, "ten_other_prompt", "uid_1", 20000000000_002, { proved_method: "x" })).toBe(false);
		expect(await store.promptSessions.update(row.id_hash, tenant, "uid_1", 20000000000_002, { email_challenge_id: "chl_1" })).toBe(true);
		const updated = await store.promptSessions.find(row.id_hash, tenant, "uid_1", 20000000000_003);
		expect(updated).toMatchObject({ proved_at: 20000000000_002, proved_method: "totp", proof_envelope: "v1.k.n.c", recovery_codes_envelope: null, email_challenge_id: "chl_1" });
		expect(typeof updated!.proved_at).toBe("number");
		expect((await store.promptSessions.find(row.id_hash, tenant, "uid_2", 20000000000_003))!.proved_at).toBeNull();

		await store.promptSessions.delete(row.id_hash, tenant, "uid_1");
		expect(await store.promptSessions.find(row.id_hash, tenant, "uid_1", 20000000000_003)).toBeUndefined();
		expect(await store.promptSessions.find(row.id_hash, tenant, "uid_2", 20000000000_003)).toBeDefined();

		await store.promptSessions.insert({ ...row, interaction_uid: "uid_old", expires_at: 100 });
		expect(await store.promptSessions.sweep(20000000000_003, 10)).toBe(1);
		expect(await store.promptSessions.find(row.id_hash, tenant, "uid_2", 20000000000_003)).toBeDefined();
		expect(await store.promptSessions.sweep(20000000000_003, 10)).toBe(0);
	});
});

/** Bulk import (issue 17): the store's part, the same on both dialects. */
describe.each(DIALECTS)("store contract, imports (%s)", (dialect) => {
	let store: StoreHandle;
	let cleanup: () => Promise<void>;
	const tenant = "ten_imports";

	beforeAll(async () => {
		if (dialect === "postgres") {
			const schema = await createPostgresSchema();
			store = openStore({ databaseURL: schema.url, sqlitePath: "" });
			cleanup = async () => {
				await store.close();
				await schema.drop();
			};
		} else {
			const dir = mkdtempSync(join(tmpdir(), "twofold-store-imports-"));
			store = openStore({ sqlitePath: join(dir, "t.db") });
			cleanup = async () => {
				await store.close();
				rmSync(dir, { recursive: true, force: true });
			};
		}
		await store.migrate();
		await store.tenants.insert({ id: tenant, name: "i", settings: "{}", created_at: 1 });
		await store.tenants.insert({ id: "ten_imports_other", name: "o", settings: "{}", created_at: 1 });
	});
	afterAll(() => cleanup());

	const imported = (userId: string, ref: string, overrides: Partial<FactorTable> = {}): FactorTable => ({
		id: `fac_${randomBytes(8).toString("hex")}`,
		tenant_id: tenant,
		user_id: userId,
		type: "totp",
		status: "active",
		label: userId,
		secret_envelope: "v1.k.n.c",
		algorithm: "SHA1",
		digits: 6,
		period: 30,
		last_used_step: 20000000000,
		created_at: 20000000000_000,
		expires_at: null,
		activated_at: 20000000000_000,
		last_used_at: null,
		deleted_at: null,
		import_ref: ref,
		import_job_id: "imp_1",
		weak_secret: 1,
		needs_resync: 0,
		...overrides,
	});

	it("ensureMany creates users (and turns attempt records into users); lockMany holds them in a transaction", async () => {
		await store.users.lockOrCreateForAttempt(tenant, "was-record", 1, 99);
		await store.users.ensureMany(tenant, ["a1", "a2", "was-record"], 5);
		for (const id of ["a1", "a2", "was-record"]) expect(await store.users.find(tenant, id)).toMatchObject({ id, record_expires_at: null });
		await store.users.ensureMany(tenant, ["a1"], 6);
		expect((await store.users.find(tenant, "a1"))!.created_at).toBe(5);
		await store.transaction((tx) => tx.users.lockMany(tenant, ["a2", "a1", "nobody"]));
	});

	it("insertMany round-trips the import columns; findImportRefs and listLiveForUsers see live factors of the tenant only", async () => {
		const rows = Array.from({ length: 620 }, (_, index) => imported(`bulk-${index}`, `serial:S${index}`));
		await store.users.ensureMany(tenant, rows.map((row) => row.user_id), 1);
		await store.factors.insertMany(rows);
		expect(await store.factors.find(tenant, "bulk-7", rows[7]!.id)).toEqual(rows[7]);
		const refs = await store.factors.findImportRefs(tenant, ["serial:S1", "serial:S619", "serial:none"]);
		expect(refs.sort((a, b) => a.import_ref.localeCompare(b.import_ref))).toEqual([
			{ import_ref: "serial:S1", user_id: "bulk-1", import_job_id: "imp_1" },
			{ import_ref: "serial:S619", user_id: "bulk-619", import_job_id: "imp_1" },
		]);
		expect(await store.factors.findImportRefs("ten_imports_other", ["serial:S1"])).toEqual([]);
		const users = rows.map((row) => row.user_id);
		expect((await store.factors.listLiveForUsers(tenant, users)).length).toBe(620);
		expect(await store.factors.listLiveForUsers("ten_imports_other", users)).toEqual([]);
	});

	it("an import reference is unique among a tenant's live factors; a deleted factor frees it", async () => {
		const first = imported("uniq", "hmac:abc");
		await store.users.ensureMany(tenant, ["uniq", "uniq2", "plain"], 1);
		await store.users.ensureMany("ten_imports_other", ["uniq"], 1);
		await store.factors.insert(first);
		await expect(store.factors.insert(imported("uniq2", "hmac:abc"))).rejects.toThrow();
		// Another tenant may hold the same reference.
		await store.factors.insert(imported("uniq", "hmac:abc", { tenant_id: "ten_imports_other" }));
		expect(await store.factors.markDeleted(tenant, "uniq", first.id, 7)).toBe(true);
		expect(await store.factors.findImportRefs(tenant, ["hmac:abc"])).toEqual([]);
		await store.factors.insert(imported("uniq", "hmac:abc"));
		// Enrolled factors have no reference: any number of them.
		await store.factors.insertMany([imported("plain", null as unknown as string), imported("plain", null as unknown as string)].map((row) => ({ ...row, import_ref: null })));
	});

	it("a consumed counter run clears needs_resync", async () => {
		const row = imported("resync", "serial:R1", { type: "hotp", period: null, last_used_step: -1, needs_resync: 1 });
		await store.users.ensureMany(tenant, ["resync"], 1);
		await store.factors.insert(row);
		expect(await store.factors.consumeCounters(tenant, "resync", row.id, 40, 41, 9)).toBe(true);
		expect(await store.factors.find(tenant, "resync", row.id)).toMatchObject({ needs_resync: 0, last_used_step: 41 });
	});

	it("import jobs: inserted, updated, found and listed within their tenant only, newest first", async () => {
		const job = (id: string, startedAt: number) => ({
			id,
			tenant_id: tenant,
			status: "running" as const,
			format: "oath-csv",
			source_name: "users.csv",
			counts: "{}",
			entries: "[]",
			entries_truncated: 0,
			error: null,
			actor_key_id: "key_1",
			started_at: startedAt,
			updated_at: startedAt,
			finished_at: null,
		});
		await store.importJobs.insert(job("imp_a", 20000000000_000));
		await store.importJobs.insert(job("imp_b", 20000000000_001));
		await store.importJobs.update(tenant, "imp_a", { status: "completed", counts: '{"records":1}', finished_at: 20000000000_005 });
		await store.importJobs.update("ten_imports_other", "imp_b", { status: "failed" });
		expect(await store.importJobs.find(tenant, "imp_a")).toMatchObject({ status: "completed", counts: '{"records":1}', finished_at: 20000000000_005 });
		expect((await store.importJobs.find(tenant, "imp_b"))!.status).toBe("running");
		expect(await store.importJobs.find("ten_imports_other", "imp_a")).toBeUndefined();
		expect((await store.importJobs.list(tenant, 10)).map((row) => row.id)).toEqual(["imp_b", "imp_a"]);
		expect(await store.importJobs.list("ten_imports_other", 10)).toEqual([]);
	});

	it("operators: a pending link is spent once, never when used, expired, replaced or its operator disabled (issue 16)", async () => {
		const operator = (id: string, name: string, hash: string) => ({
			id,
			name,
			role: "support" as const,
			tenant_scope: "*",
			status: "active" as const,
			created_at: 1,
			disabled_at: null,
			enrollment_hash: hash,
			enrollment_expires_at: 1_000,
			enrollment_used_at: null,
		});
		await store.operators.insert(operator("opr_a", "contract-a", "hash-a"));
		await store.operators.insert(operator("opr_b", "contract-b", "hash-b"));
		await expect(store.operators.insert(operator("opr_c", "contract-a", "hash-c"))).rejects.toThrow();
		expect(await store.operators.spendEnrollment("hash-a", 1_000)).toBeUndefined();
		expect(await store.operators.spendEnrollment("hash-a", 999)).toMatchObject({ id: "opr_a", enrollment_used_at: 999 });
		expect(await store.operators.spendEnrollment("hash-a", 999)).toBeUndefined();
		await store.operators.setEnrollment("opr_a", "hash-a2", 2_000);
		expect(await store.operators.spendEnrollment("hash-a", 1_500)).toBeUndefined();
		expect(await store.operators.disable("opr_b", 5)).toBe(true);
		expect(await store.operators.disable("opr_b", 6)).toBe(false);
		expect(await store.operators.spendEnrollment("hash-b", 10)).toBeUndefined();
		expect(await store.operators.findByName("contract-b")).toMatchObject({ status: "disabled", disabled_at: 5, enrollment_hash: null });
		expect(await store.operators.spendEnrollment("hash-a2", 1_999)).toMatchObject({ id: "opr_a" });
		expect((await store.operators.list()).map((row) => row.name)).toEqual(["contract-a", "contract-b"]);
	});

	it("events.appendMany keeps the order, as append would", async () => {
		const rows = Array.from({ length: 700 }, (_, index) => ({
			id: `evt_many_${index}`,
			tenant_id: tenant,
			user_id: "events",
			type: "factor.imported",
			factor_id: null,
			data: JSON.stringify({ index }),
			created_at: 1,
		}));
		await store.transaction((tx) => tx.events.appendMany(rows));
		const listed = await store.events.list(tenant, { userId: "events", limit: 1000 });
		expect(listed.map((row) => row.id)).toEqual(rows.map((row) => row.id).reverse());
	});
});
