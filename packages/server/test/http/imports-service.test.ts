// The import service (issue 17): importItems on both dialects, with generated ImportItems (the readers are tested on
// their own in test/token-files). Codes come from oathtool, an implementation we did not write; they verify through
// the HTTP API, once.
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { sql } from "kysely";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBase32 } from "../../src/core/base32.js";
import { createKeyring } from "../../src/core/keyring.js";
import { getImportJob, HEARTBEAT_MS, importItems, listImportJobs, runImport, STALE_MS } from "../../src/services/imports.js";
import { importRef } from "../../src/services/import-ref.js";
import type { ImportOptions } from "../../src/services/import-types.js";
import { tenantContext, type TenantContext } from "../../src/services/tenant-context.js";
import { createKysely } from "../../src/store/dialects.js";
import type { ImportItem, ImportRecord } from "../../src/token-files/import-record.js";
import { hasTool } from "../e2e/process.js";
import { buildTestApp, codeFor, createPostgresSchema, DIALECTS, nextStep, type TestApp } from "../helpers.js";

const OATHTOOL = hasTool("oathtool", "oathtool");

/** oathtool's TOTP code for a raw secret at a unix time (seconds). */
function oathTOTP(secret: Uint8Array, unixSeconds: number, options: { digits?: number; period?: number; algorithm?: string } = {}): string {
	const args = [`--totp=${(options.algorithm ?? "SHA1").toLowerCase()}`, "-b", "-d", String(options.digits ?? 6), "-s", `${options.period ?? 30}s`, "-N", `@${unixSeconds}`, encodeBase32(secret)];
	return execFileSync("oathtool", args, { encoding: "utf8" }).trim();
}
/** oathtool's HOTP code for a raw secret at a counter. */
function oathHOTP(secret: Uint8Array, counter: number, digits = 6): string {
	return execFileSync("oathtool", ["-b", "-d", String(digits), "-c", String(counter), encodeBase32(secret)], { encoding: "utf8" }).trim();
}

/** A record; the service zeroes the secret it is given, so each call gets its own copy. */
function record(userId: string, secret: Uint8Array, extra: Partial<ImportRecord> = {}): ImportItem {
	return { kind: "record", record: { location: `line ${userId}`, userId, type: "totp", secret: Uint8Array.from(secret), algorithm: "SHA1", digits: 6, period: 30, ...extra } };
}

async function* itemsOf(items: ImportItem[]): AsyncGenerator<ImportItem> {
	for (const item of items) yield item;
}

describe.skipIf(!OATHTOOL).each(DIALECTS)("import service (%s)", (dialect) => {
	let t: TestApp;
	let ctx: TenantContext;
	let counting: { count(): Promise<Record<string, number>>; deliveries(type: string): Promise<number>; close(): Promise<void> };
	let dropSchema: (() => Promise<void>) | undefined;
	let schemaURL: string | undefined;

	beforeAll(async () => {
		const schema = dialect === "postgres" ? await createPostgresSchema() : undefined;
		dropSchema = schema?.drop;
		schemaURL = schema?.url;
		const env = { TWOFOLD_WEBHOOK_ALLOW_PRIVATE: "true" };
		t = await buildTestApp({ env: schema === undefined ? env : { ...env, TWOFOLD_DATABASE_URL: schema.url } });
		ctx = await adminContext();
		// Its own connection, reading every table of the schema: a dry run must change none of them.
		const { db } = createKysely(schema === undefined ? { sqlitePath: `${t.dataDir}/twofold.db` } : { databaseURL: schema.url, sqlitePath: "" });
		counting = {
			async count() {
				const tables =
					dialect === "postgres"
						? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(db)).rows
						: (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)).rows;
				const counts: Record<string, number> = {};
				for (const { name } of tables) counts[name] = Number((await sql<{ n: number | string }>`select count(*) as n from ${sql.table(name)}`.execute(db)).rows[0]!.n);
				return counts;
			},
			async deliveries(type) {
				const row = await db.selectFrom("webhook_deliveries").select((eb) => eb.fn.countAll<number | string>().as("n")).where("event_type", "=", type).executeTakeFirstOrThrow();
				return Number(row.n);
			},
			close: () => db.destroy(),
		};
	});
	afterAll(async () => {
		await counting.close();
		await t.close();
		await dropSchema?.();
	});

	async function adminContext(): Promise<TenantContext> {
		const { store } = t.app.services.deps;
		const tenant = await store.tenants.find(t.tenantId);
		const [key] = await store.apiKeys.list(t.tenantId);
		return tenantContext(tenant!, { id: key!.id, scope: "admin" });
	}

	const run = (items: ImportItem[], options: Partial<ImportOptions> = {}, context = ctx) =>
		importItems(t.app.services.deps, context, itemsOf(items), { format: "otpauth", dryRun: false, ...options });
	const verify = (user: string, code: string) => t.call("POST", `/v1/users/${encodeURIComponent(user)}/verify`, { code });
	const unix = () => Math.floor(t.clock().getTime() / 1000);
	const factorsOf = async (user: string) => (await t.call("GET", `/v1/users/${encodeURIComponent(user)}`)).json?.factors as Record<string, unknown>[] | undefined;
	const eventsOf = async (user: string, type: string) => ((await t.call("GET", `/v1/events?user_id=${encodeURIComponent(user)}&type=${type}`)).json.events as { data: Record<string, unknown> }[]);

	it("creates active TOTP and HOTP factors whose oathtool codes verify once; the job and its events are recorded", async () => {
		const totpSecret = randomBytes(20);
		const hotpSecret = randomBytes(20);
		const sha256 = randomBytes(32);
		const report = await run([
			record("ann", totpSecret),
			record("bob", hotpSecret, { type: "hotp", counter: 7, period: undefined }),
			record("cid", sha256, { algorithm: "SHA256", digits: 8, period: 60 }),
		]);
		expect(report).toMatchObject({ status: "completed", format: "otpauth", counts: { records: 3, users_created: 3, factors_created: 3, skipped: 0, invalid: 0, weak_secret: 0 } });
		expect(report.job_id).toMatch(/^imp_/);
		expect(report.entries).toEqual([]);

		// The fence is the current step at import: the code on the user's phone right now is not accepted, the next one is.
		const factors = await factorsOf("ann");
		expect(factors).toMatchObject([{ type: "totp", status: "active", weak_secret: false, needs_resync: false }]);
		expect((await verify("ann", oathTOTP(totpSecret, unix()))).status).toBe(422);
		nextStep(t.clock);
		const code = oathTOTP(totpSecret, unix());
		expect((await verify("ann", code)).status).toBe(200);
		expect((await verify("ann", code)).json.error.code).toBe("invalid_code");

		// HOTP: the record's counter (7) is the next code's; an earlier counter's code is refused.
		expect((await verify("bob", oathHOTP(hotpSecret, 6))).status).toBe(422);
		expect((await verify("bob", oathHOTP(hotpSecret, 7))).status).toBe(200);
		expect((await verify("bob", oathHOTP(hotpSecret, 7))).status).toBe(422);

		nextStep(t.clock, 60);
		expect((await verify("cid", oathTOTP(sha256, unix(), { algorithm: "SHA256", digits: 8, period: 60 }))).status).toBe(200);

		const imported = await eventsOf("bob", "factor.imported");
		expect(imported).toHaveLength(1);
		expect(imported[0]!.data).toMatchObject({ job_id: report.job_id, types: ["hotp"], weak_secret: false, needs_resync: false, replaced: false });
		expect(await eventsOf("bob", "factor.created")).toHaveLength(1);
		expect(await eventsOf("bob", "factor.activated")).toHaveLength(1);
		const completed = ((await t.call("GET", "/v1/events?type=import.completed")).json.events as { data: Record<string, unknown> }[]).find((event) => event.data.job_id === report.job_id);
		expect(completed?.data).toMatchObject({ actor_key_id: ctx.keyId, counts: report.counts });

		const job = await getImportJob(t.app.services.deps, ctx, report.job_id!);
		expect(job).toMatchObject({ status: "completed", counts: report.counts });
		expect((await listImportJobs(t.app.services.deps, ctx, { limit: 5 })).map((listed) => listed.job_id)).toContain(report.job_id);
	});

	it("fences TOTP at max(the source's last used step, the current step): no code the old system may have accepted replays here (R-OTP-1)", async () => {
		const secret = randomBytes(20);
		const step = Math.floor(unix() / 30);
		// The export says step - 1 was the last used; the old system stayed live after its export and may have accepted
		// the current step's code too: that code is refused here, the next step's works.
		expect((await run([record("dee", secret, { lastUsedStep: step - 1 })])).counts.users_created).toBe(1);
		expect((await verify("dee", oathTOTP(secret, (step - 1) * 30))).json.error.code).toBe("invalid_code");
		expect((await verify("dee", oathTOTP(secret, step * 30))).json.error.code).toBe("invalid_code");
		nextStep(t.clock);
		expect((await verify("dee", oathTOTP(secret, unix()))).status).toBe(200);
		// A source step ahead of ours (its clock was fast) is kept: the code of that step is refused, the one after works.
		const ahead = randomBytes(20);
		const now = Math.floor(unix() / 30);
		expect((await run([record("dee-ahead", ahead, { lastUsedStep: now + 1 })])).counts.users_created).toBe(1);
		expect((await verify("dee-ahead", oathTOTP(ahead, (now + 1) * 30))).json.error.code).toBe("invalid_code");
		nextStep(t.clock);
		nextStep(t.clock);
		expect((await verify("dee-ahead", oathTOTP(ahead, unix()))).status).toBe(200);
	});

	it("is idempotent: the same file again creates nothing, skipped as already imported", async () => {
		const secrets = [randomBytes(20), randomBytes(20)];
		const items = () => [record("eve", secrets[0]!), record("fay", secrets[1]!, { type: "hotp", counter: 0, serial: "OATH0001" })];
		expect((await run(items())).counts).toMatchObject({ users_created: 2, factors_created: 2 });
		const again = await run(items());
		expect(again.counts).toMatchObject({ records: 2, users_created: 0, factors_created: 0, skipped: 2, invalid: 0 });
		expect(await factorsOf("eve")).toHaveLength(1);
		expect(await factorsOf("fay")).toHaveLength(1);
	});

	it("a dry run writes nothing at all (every table's row count unchanged) and reports what a real run would", async () => {
		const weak = randomBytes(10);
		const items = () => [record("gil", randomBytes(20)), record("eve", randomBytes(20)), record("hal", weak), record("ivy", randomBytes(9))];
		const before = await counting.count();
		const dry = await run(items(), { dryRun: true });
		expect(await counting.count()).toEqual(before);
		expect(dry).toMatchObject({ job_id: null, status: "dry_run", counts: { records: 4, users_created: 2, factors_created: 2, skipped: 1, invalid: 1, weak_secret: 1 } });
		expect(dry.entries.map((entry) => [entry.userId, entry.outcome, entry.code]).sort()).toEqual([
			["eve", "skipped", "user_has_factor"],
			["ivy", "invalid", "secret_too_short"],
		]);
		const real = await run(items());
		expect(real.counts).toEqual(dry.counts);
		expect(real.entries).toEqual(dry.entries);
	});

	it("weak secrets (R-OTP-4 as amended): 80-127 bits created and flagged, under 80 refused, all refused by the tenant setting", async () => {
		const weak = randomBytes(10);
		const report = await run([record("jon", weak), record("kim", randomBytes(9)), record("kim2", randomBytes(15))]);
		expect(report.counts).toMatchObject({ users_created: 2, weak_secret: 2, invalid: 1 });
		expect(report.entries).toEqual([{ outcome: "invalid", location: "line kim", code: "secret_too_short", reason: "the secret has 72 bits; at least 80 are needed (R-OTP-4)", userId: "kim" }]);
		expect(await factorsOf("jon")).toMatchObject([{ weak_secret: true }]);
		expect((await eventsOf("jon", "factor.imported"))[0]!.data).toMatchObject({ weak_secret: true });
		nextStep(t.clock);
		expect((await verify("jon", oathTOTP(weak, unix()))).status).toBe(200);

		expect((await t.call("PATCH", "/v1/tenant", { imports: { weak_secrets: "refuse" } })).status).toBe(200);
		const refusing = await adminContext();
		const refused = await run([record("lou", randomBytes(15)), record("max", randomBytes(16))], {}, refusing);
		expect(refused.counts).toMatchObject({ users_created: 1, invalid: 1, weak_secret: 0 });
		expect(refused.entries[0]).toMatchObject({ userId: "lou", code: "weak_secret_refused" });
		expect(await factorsOf("lou")).toBeUndefined();
		expect((await t.call("PATCH", "/v1/tenant", { imports: { weak_secrets: "accept" } })).status).toBe(200);
	});

	it("a user with an active factor is skipped; with a replace reason the admin-reset path runs first, audited", async () => {
		const first = randomBytes(20);
		await run([record("ned", first)]);
		const second = randomBytes(20);
		const skipped = await run([record("ned", second)]);
		expect(skipped.counts).toMatchObject({ skipped: 1, users_created: 0 });
		expect(skipped.entries).toMatchObject([{ userId: "ned", outcome: "skipped", code: "user_has_factor" }]);

		const replaced = await run([record("ned", second)], { replaceReason: "moved from the old system" });
		expect(replaced.counts).toMatchObject({ users_replaced: 1, factors_created: 1 });
		const reset = await eventsOf("ned", "admin.factor_reset");
		expect(reset).toHaveLength(1);
		expect(reset[0]!.data).toMatchObject({ reason: "moved from the old system", actor_key_id: ctx.keyId, factors_removed: 1 });
		expect((await eventsOf("ned", "user.security_notice"))[0]!.data).toMatchObject({ reason: "admin_reset" });
		expect((await eventsOf("ned", "factor.imported"))[0]!.data).toMatchObject({ replaced: true });
		nextStep(t.clock);
		expect((await verify("ned", oathTOTP(first, unix()))).status).toBe(422);
		expect((await verify("ned", oathTOTP(second, unix()))).status).toBe(200);
		// Idempotent under replace too: the same file again resets nothing.
		expect((await run([record("ned", second)], { replaceReason: "again" })).counts).toMatchObject({ skipped: 1, users_replaced: 0 });
		expect(await eventsOf("ned", "admin.factor_reset")).toHaveLength(1);
	});

	it("the same user twice with the same type is refused whole (duplicate_user); a TOTP and an HOTP token are fine", async () => {
		const report = await run([
			record("oli", randomBytes(20)),
			record("pam", randomBytes(20)),
			record("oli", randomBytes(20)),
			record("pam", randomBytes(20), { type: "hotp", counter: 3 }),
		]);
		expect(report.counts).toMatchObject({ users_created: 1, factors_created: 2, invalid: 2 });
		expect(report.entries.map((entry) => [entry.userId, entry.code])).toEqual([
			["oli", "duplicate_user"],
			["oli", "duplicate_user"],
		]);
		expect(await factorsOf("oli")).toBeUndefined();
		expect(await factorsOf("pam")).toHaveLength(2);
	});

	it("a user with any invalid record gets nothing: a reader's problem refuses their other records too", async () => {
		const report = await run([
			record("quin", randomBytes(20)),
			{ kind: "problem", problem: { location: "line 9", code: "invalid_secret", reason: "the secret is not base32", userId: "quin" } },
			{ kind: "problem", problem: { location: "line 10", code: "missing_column", reason: "no user column" } },
		]);
		expect(report.counts).toMatchObject({ records: 3, users_created: 0, invalid: 3 });
		expect(report.entries.map((entry) => entry.code).sort()).toEqual(["invalid_secret", "missing_column", "other_record_invalid"]);
		expect(await factorsOf("quin")).toBeUndefined();
	});

	it("an HOTP token without a counter needs resynchronization: every code refused until two consecutive codes resync it", async () => {
		const secret = randomBytes(20);
		const report = await run([record("ray", secret, { type: "hotp", period: undefined })]);
		expect(report.counts.factors_created).toBe(1);
		const [factor] = (await factorsOf("ray"))!;
		expect(factor).toMatchObject({ type: "hotp", needs_resync: true });
		expect((await eventsOf("ray", "factor.imported"))[0]!.data).toMatchObject({ needs_resync: true });
		// Whatever the counter, a code is refused, and the audit trail says why.
		for (const counter of [0, 1, 40]) expect((await verify("ray", oathHOTP(secret, counter))).json.error.code).toBe("invalid_code");
		expect((await eventsOf("ray", "verification.failed"))[0]!.data).toMatchObject({ reason: "needs_resync" });
		// The token was used 640 times at the old system: past the tenant's resync window (100), within the wider one
		// a token imported without its counter gets (1,000).
		const resync = await t.call("POST", `/v1/users/ray/factors/${factor!.id}/resync`, { codes: [oathHOTP(secret, 640), oathHOTP(secret, 641)] });
		expect(resync.status, resync.body).toBe(200);
		expect(resync.json.factor.needs_resync).toBe(false);
		expect((await verify("ray", oathHOTP(secret, 641))).status).toBe(422);
		expect((await verify("ray", oathHOTP(secret, 642))).status).toBe(200);
		// Once synchronized, the tenant's window applies again: a jump of 640 is not found by a resync.
		const again = await t.call("POST", `/v1/users/ray/factors/${factor!.id}/resync`, { codes: [oathHOTP(secret, 1300), oathHOTP(secret, 1301)] });
		expect(again.json.error.code).toBe("invalid_code");
	});

	it("the import reference is a keyed HMAC, not an unkeyed hash of the secret, and changes with the master key", async () => {
		const secret = randomBytes(20);
		await run([record("sam", secret)]);
		const [row] = await t.app.services.deps.store.factors.listForUser(t.tenantId, "sam");
		const stored = row!.import_ref!;
		expect(stored).toMatch(/^hmac:/);
		for (const unkeyed of [createHash("sha256").update(secret).digest(), createHash("sha256").update(encodeBase32(secret)).digest()]) {
			expect(stored).not.toContain(unkeyed.toString("base64url"));
			expect(stored).not.toContain(unkeyed.toString("hex"));
		}
		const recomputed = importRef(t.app.services.deps.keyring, { userId: "sam", type: "totp", secret });
		expect(recomputed).toBe(stored);
		expect(importRef(createKeyring([randomBytes(32)]), { userId: "sam", type: "totp", secret })).not.toBe(stored);
	});

	it("a file fault mid-file fails the job; the batches before it stay committed, each user whole", async () => {
		let polled: unknown;
		async function* faulty(): AsyncGenerator<ImportItem> {
			for (let index = 0; index < 501; index += 1) yield record(`batch-${String(index).padStart(4, "0")}`, randomBytes(20));
			// The first batch is committed by now: a poll of the running job sees its progress.
			// (The test clock stands still, so jobs of this file share started_at: the running one is picked by status.)
			polled = (await listImportJobs(t.app.services.deps, ctx, { limit: 100 })).find((job) => job.status === "running");
			const { TokenFileError } = await import("../../src/token-files/import-record.js");
			throw new TokenFileError("line_too_long", "line 502 is over 64 KiB", "line 502");
		}
		const report = await importItems(t.app.services.deps, ctx, faulty(), { format: "otpauth", dryRun: false });
		expect(report.status).toBe("failed");
		expect(report.error).toEqual({ code: "line_too_long", reason: "line 502 is over 64 KiB", location: "line 502" });
		// The first batch (500 users) committed; the 501st user was still being gathered and is not written.
		expect(report.counts).toMatchObject({ users_created: 500, factors_created: 500 });
		expect(polled).toMatchObject({ job_id: report.job_id, status: "running", finished_at: null, counts: { records: 501, users_created: 500 } });
		expect(await factorsOf("batch-0499")).toHaveLength(1);
		expect(await factorsOf("batch-0500")).toBeUndefined();
		const job = await getImportJob(t.app.services.deps, ctx, report.job_id!);
		expect(job).toMatchObject({ status: "failed", error: report.error, counts: report.counts });
		const failed = ((await t.call("GET", "/v1/events?type=import.failed")).json.events as { data: Record<string, unknown> }[]).find((event) => event.data.job_id === report.job_id);
		expect(failed?.data.error).toEqual(report.error);
	});

	it("a user split across batches is reported (user_split_in_file, invalid) and a re-run of the file finishes them; never beside a factor of their own", async () => {
		const zedTotp = randomBytes(20);
		const zedHotp = randomBytes(20);
		const xiaTotp = randomBytes(20);
		const file = (): ImportItem[] => {
			const items: ImportItem[] = [record("split-zed", zedTotp), record("split-xia", xiaTotp)];
			for (let index = 0; index < 600; index += 1) items.push(record(`split-fill-${index}`, Uint8Array.from(fillers[index]!)));
			items.push(record("split-zed", zedHotp, { type: "hotp", counter: 0, period: undefined }));
			items.push(record("split-xia", randomBytes(20), { type: "hotp", counter: 0, period: undefined }));
			return items;
		};
		const fillers = Array.from({ length: 600 }, () => randomBytes(20));
		const first = await run(file());
		// The first batch (500 users) is committed when the later records come: they cannot join it atomically.
		expect(first.counts).toMatchObject({ records: 604, users_created: 602, factors_created: 602, invalid: 2, skipped: 0 });
		expect(first.entries.map((entry) => [entry.userId, entry.outcome, entry.code]).sort()).toEqual([
			["split-xia", "invalid", "user_split_in_file"],
			["split-zed", "invalid", "user_split_in_file"],
		]);
		expect((await factorsOf("split-zed"))!.map((factor) => factor.type)).toEqual(["totp"]);

		// Between the runs, xia enrolls a factor of their own beside the imported one: the re-run must not plant the
		// rest of the file's tokens beside it (R-LC-1).
		nextStep(t.clock);
		const own = await t.call("POST", "/v1/users/split-xia/factors", { type: "totp", code: oathTOTP(xiaTotp, unix()) });
		expect(own.status, own.body).toBe(201);
		expect((await t.call("POST", `/v1/users/split-xia/factors/${own.json.factor.id}/confirm`, { code: codeFor(own.json.totp.secret, t.clock()) })).status).toBe(200);

		const second = await run(file());
		expect(second.status).toBe("completed");
		// zed is finished: their HOTP token is written beside the TOTP token this file gave them.
		expect(second.counts).toMatchObject({ records: 604, users_created: 0, factors_created: 1, invalid: 0 });
		expect((await factorsOf("split-zed"))!.map((factor) => factor.type).sort()).toEqual(["hotp", "totp"]);
		expect((await verify("split-zed", oathHOTP(zedHotp, 0))).status).toBe(200);
		nextStep(t.clock);
		expect((await verify("split-zed", oathTOTP(zedTotp, unix()))).status).toBe(200);
		// xia: their own factor is not one of this file's, so nothing is written for them.
		expect(second.entries.filter((entry) => entry.userId === "split-xia").map((entry) => entry.code)).toEqual(["already_imported", "user_has_factor"]);
		const xia = (await t.app.services.deps.store.factors.listForUser(t.tenantId, "split-xia")).filter((factor) => factor.status === "active");
		expect(xia.map((factor) => factor.type).sort()).toEqual(["totp", "totp"]);

		// A third run: nothing left to do.
		const third = await run(file());
		expect(third.counts).toMatchObject({ factors_created: 0, users_created: 0, invalid: 0 });
	});

	it("each user whole: a user with several records in one batch gets all of them or none", async () => {
		const good = [randomBytes(20), randomBytes(20)];
		const report = await run([
			record("whole-a", good[0]!),
			record("whole-b", randomBytes(20)),
			record("whole-a", good[1]!, { type: "hotp", counter: 4, period: undefined }),
			record("whole-b", randomBytes(20), { type: "hotp", counter: 1, period: undefined }),
			record("whole-b", randomBytes(8), { serial: "WB-3" }),
		]);
		expect(report.counts).toMatchObject({ records: 5, users_created: 1, factors_created: 2, invalid: 3 });
		expect((await factorsOf("whole-a"))!.map((factor) => factor.type).sort()).toEqual(["hotp", "totp"]);
		expect(await factorsOf("whole-b")).toBeUndefined();
		expect(report.entries.filter((entry) => entry.userId === "whole-b").map((entry) => entry.code).sort()).toEqual(["other_record_invalid", "other_record_invalid", "secret_too_short"]);
	});

	it("an enrollment racing the job never fails a batch: each contested user ends with the import's factor or their own, never both", async () => {
		// Enrollments land while the job runs: between the job reading a user's record and deciding their batch (awaited
		// inside the file's stream, so it happens for certain), and in parallel with the job's transactions.
		const confirmedMidway: string[] = [];
		const pendingMidway: { user: string; id: string; secret: string }[] = [];
		const parallel: string[] = [];
		async function enroll(user: string): Promise<{ id: string; secret: string } | undefined> {
			const enrolled = await t.call("POST", `/v1/users/${user}/factors`, { type: "totp" });
			return enrolled.status === 201 ? { id: enrolled.json.factor.id, secret: enrolled.json.totp.secret } : undefined;
		}
		const confirm = async (user: string, factor: { id: string; secret: string }) =>
			(await t.call("POST", `/v1/users/${user}/factors/${factor.id}/confirm`, { code: codeFor(factor.secret, t.clock()) })).status === 200 ? "active" : "refused";
		const racing: Promise<"active" | "refused">[] = [];
		async function* file(): AsyncGenerator<ImportItem> {
			for (let index = 0; index < 1200; index += 1) {
				const user = `race-${String(index).padStart(4, "0")}`;
				yield record(user, randomBytes(20));
				if (index % 40 === 0) {
					const factor = (await enroll(user))!;
					expect(await confirm(user, factor)).toBe("active");
					confirmedMidway.push(user);
				} else if (index % 40 === 20) {
					pendingMidway.push({ user, ...(await enroll(user))! });
				} else if (index % 40 === 10) {
					parallel.push(user);
					racing.push(enroll(user).then((factor) => (factor === undefined ? "refused" : confirm(user, factor))));
				}
			}
		}
		const report = await importItems(t.app.services.deps, ctx, file(), { format: "otpauth", dryRun: false });
		const outcomes = await Promise.all(racing);
		expect(report.status).toBe("completed");
		expect(report.counts.users_created + report.counts.skipped).toBe(1200);
		const skipped = new Set(report.entries.filter((entry) => entry.code === "user_has_factor").map((entry) => entry.userId));
		expect(skipped.size).toBe(report.counts.skipped);
		// Confirmed before their batch was decided: skipped, their own factor kept.
		for (const user of confirmedMidway) expect(skipped.has(user), user).toBe(true);
		// Pending when their batch was decided: the import's factor is their first, and the pending one is void (R-LC-1).
		for (const { user, id, secret } of pendingMidway) {
			expect(skipped.has(user), user).toBe(false);
			expect(await confirm(user, { id, secret })).toBe("refused");
			expect((await eventsOf(user, "factor.deleted"))[0]?.data).toMatchObject({ by: "system", reason: "superseded" });
		}
		for (const user of [...confirmedMidway, ...pendingMidway.map((entry) => entry.user), ...parallel]) {
			const active = (await t.app.services.deps.store.factors.listForUser(t.tenantId, user)).filter((factor) => factor.status === "active");
			const imported = active.filter((factor) => factor.import_job_id === report.job_id);
			const own = active.filter((factor) => factor.import_job_id === null);
			expect(imported.length + own.length, user).toBe(1);
			expect(own.length === 1, user).toBe(skipped.has(user));
		}
		parallel.forEach((user, index) => expect(outcomes[index] === "active", user).toBe(skipped.has(user)));
	});

	it("runImport: an otpauth list, streamed in small chunks, detected and imported; an undetectable file leaves no job", async () => {
		const secrets = [randomBytes(20), randomBytes(20)];
		const text =
			"# exported from an otplib app\n" +
			`otpauth://totp/Acme:vic%40example.com?secret=${encodeBase32(secrets[0]!)}&issuer=Acme\r\n` +
			`otpauth://hotp/Acme:wes%40example.com?secret=${encodeBase32(secrets[1]!)}&issuer=Acme&counter=5\n`;
		const bytes = new TextEncoder().encode(text);
		async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
			for (let offset = 0; offset < data.byteLength; offset += size) yield data.slice(offset, offset + size);
		}
		const progress: number[] = [];
		const deps = t.app.services.deps;
		const report = await runImport(deps, ctx, chunks(bytes, 7), { format: "auto", dryRun: false, userFrom: "label" }, (p) => progress.push(p.bytes));
		expect(report).toMatchObject({ status: "completed", format: "otpauth", counts: { records: 2, users_created: 2, factors_created: 2, invalid: 0 } });
		expect(progress.at(-1)).toBe(bytes.byteLength);
		nextStep(t.clock);
		expect((await verify("vic@example.com", oathTOTP(secrets[0]!, unix()))).status).toBe(200);
		expect((await verify("wes@example.com", oathHOTP(secrets[1]!, 5))).status).toBe(200);

		const jobs = (await listImportJobs(deps, ctx, { limit: 100 })).length;
		await expect(runImport(deps, ctx, chunks(new TextEncoder().encode("nothing a reader knows\n"), 4), { format: "auto", dryRun: false })).rejects.toMatchObject({
			code: "import_file_invalid",
		});
		expect((await listImportJobs(deps, ctx, { limit: 100 })).length).toBe(jobs);
	});

	it("a store failure mid-job ends the job internal_error, rethrows, and closes the item source (the reader's thread with it)", async () => {
		const deps = t.app.services.deps;
		// The first transaction (the first batch's) fails, as a lost disk would; the job's final write still goes through.
		let failed = false;
		const store = new Proxy(deps.store, {
			get(target, property) {
				if (property === "transaction" && !failed) {
					return () => {
						failed = true;
						return Promise.reject(new Error("the disk went away"));
					};
				}
				const value = Reflect.get(target, property, target) as unknown;
				return typeof value === "function" ? value.bind(target) : value;
			},
		});
		let closed = false;
		async function* source(): AsyncGenerator<ImportItem> {
			try {
				for (let index = 0; ; index += 1) yield record(`disk-${index}`, randomBytes(20));
			} finally {
				closed = true;
			}
		}
		const jobs = await listImportJobs(deps, ctx, { limit: 100 });
		await expect(importItems({ ...deps, store }, ctx, source(), { format: "otpauth", dryRun: false })).rejects.toThrow("the disk went away");
		expect(closed, "the item source is returned when the job stops").toBe(true);
		const [job] = (await listImportJobs(deps, ctx, { limit: 100 })).filter((listed) => !jobs.some((before) => before.job_id === listed.job_id));
		expect(job).toMatchObject({ status: "failed", error: { code: "internal_error" } });
	});

	it("webhooks get factor.imported per user and import.completed per job, as for any event", async () => {
		const hook = await t.call("POST", "/v1/webhooks", { url: "http://127.0.0.1:9/hook", events: ["factor.imported", "import.completed"] });
		expect(hook.status, hook.body).toBe(201);
		const before = { imported: await counting.deliveries("factor.imported"), completed: await counting.deliveries("import.completed") };
		const report = await run([record("hook-1", randomBytes(20)), record("hook-2", randomBytes(20)), record("hook-3", randomBytes(20))]);
		expect(report.counts.users_created).toBe(3);
		expect(await counting.deliveries("factor.imported")).toBe(before.imported + 3);
		expect(await counting.deliveries("import.completed")).toBe(before.completed + 1);
		expect(await counting.deliveries("factor.created")).toBe(0);
		expect((await t.call("DELETE", `/v1/webhooks/${hook.json.webhook.id}`)).status).toBe(204);
	});

	it("every secret handed to it is zeroed once used: created, refused, skipped, and in a dry run (R-ST-1)", async () => {
		for (const dryRun of [true, false]) {
			const items = [record(`zero-${dryRun}`, randomBytes(20)), record("eve", randomBytes(20)), record(`zero-short-${dryRun}`, randomBytes(8))];
			await run(items, { dryRun });
			for (const item of items) expect(item.kind === "record" && item.record.secret.every((byte) => byte === 0)).toBe(true);
		}
	});

	it("one serial for two users is refused: both in one batch (duplicate_reference), the later one across batches (reference_in_use); a dry run says the same", async () => {
		const items = () => {
			const list: ImportItem[] = [
				record("ser-a", randomBytes(20), { serial: "TOK-1" }),
				record("ser-b", randomBytes(20), { serial: "TOK-1" }),
				record("ser-c", randomBytes(20), { serial: "TOK-2" }),
			];
			for (let index = 0; index < 500; index += 1) list.push(record(`ser-fill-${index}`, randomBytes(20)));
			list.push(record("ser-d", randomBytes(20), { serial: "TOK-2" }));
			return list;
		};
		const dry = await run(items(), { dryRun: true });
		const real = await run(items());
		expect(real.status).toBe("completed");
		expect(real.entries.map((entry) => [entry.userId, entry.code])).toEqual([
			["ser-a", "duplicate_reference"],
			["ser-b", "duplicate_reference"],
			["ser-d", "reference_in_use"],
		]);
		expect(real.counts).toMatchObject({ users_created: 501, invalid: 3 });
		expect({ ...dry, job_id: null, status: "x", started_at: "", finished_at: "" }).toEqual({ ...real, job_id: null, status: "x", started_at: "", finished_at: "" });
		expect(await factorsOf("ser-a")).toBeUndefined();
		expect(await factorsOf("ser-d")).toBeUndefined();
	});

	it("admin keys only", async () => {
		await expect(run([record("tom", randomBytes(20))], {}, { ...ctx, scope: "default" })).rejects.toMatchObject({ code: "forbidden" });
		await expect(getImportJob(t.app.services.deps, ctx, "imp_nothere")).rejects.toMatchObject({ code: "import_not_found" });
	});

	it("no secret in any event, webhook delivery, job row, factor column (but the sealed envelope) or report, after a successful import", async () => {
		const hook = await t.call("POST", "/v1/webhooks", { url: "http://127.0.0.1:9/hook", events: ["factor.imported", "import.completed", "factor.created", "factor.activated"] });
		expect(hook.status, hook.body).toBe(201);
		const secrets = { totp: randomBytes(20), hotp: randomBytes(20), weak: randomBytes(10), resync: randomBytes(32) };
		const report = await run([
			record("uma", secrets.totp, { serial: "UMA-1" }),
			record("uma", secrets.hotp, { type: "hotp", counter: 12, period: undefined }),
			record("vin", secrets.weak),
			record("wyn", secrets.resync, { type: "hotp", period: undefined, algorithm: "SHA256" }),
		]);
		expect(report.counts).toMatchObject({ users_created: 3, factors_created: 4, weak_secret: 1, invalid: 0 });
		const { db } = createKysely(schemaURL === undefined ? { sqlitePath: `${t.dataDir}/twofold.db` } : { databaseURL: schemaURL, sqlitePath: "" });
		try {
			const factors = await db.selectFrom("factors").selectAll().where("user_id", "in", ["uma", "vin", "wyn"]).execute();
			expect(factors).toHaveLength(4);
			const text = JSON.stringify([
				report,
				await getImportJob(t.app.services.deps, ctx, report.job_id!),
				await db.selectFrom("import_jobs").selectAll().where("id", "=", report.job_id!).execute(),
				await db.selectFrom("events").selectAll().execute(),
				await db.selectFrom("webhook_deliveries").selectAll().execute(),
				factors.map(({ secret_envelope: _sealed, ...columns }) => columns),
			]);
			expect(text).toContain(report.job_id!);
			for (const secret of Object.values(secrets)) {
				const forms = [encodeBase32(secret), encodeBase32(secret).replace(/=+$/, ""), secret.toString("hex"), secret.toString("hex").toUpperCase(), secret.toString("base64"), secret.toString("base64url")];
				for (const form of forms) expect(text.includes(form), form).toBe(false);
			}
		} finally {
			await db.destroy();
			await t.call("DELETE", `/v1/webhooks/${hook.json.webhook.id}`);
		}
	});

	it("a job whose process died (no heartbeat for 5 minutes) is ended failed, interrupted, when read; its import.failed event once", async () => {
		const deps = t.app.services.deps;
		const known = new Set((await listImportJobs(deps, ctx, { limit: 100 })).map((job) => job.job_id));
		let release!: () => void;
		const hung = new Promise<void>((resolve) => (release = resolve));
		async function* stalled(): AsyncGenerator<ImportItem> {
			for (let index = 0; index < 501; index += 1) yield record(`stale-${String(index).padStart(4, "0")}`, randomBytes(20));
			await hung;
		}
		const running = importItems(deps, ctx, stalled(), { format: "otpauth", dryRun: false });
		let job: Awaited<ReturnType<typeof getImportJob>> | undefined;
		for (let tries = 0; tries < 400 && job?.counts.users_created !== 500; tries += 1) {
			job = (await listImportJobs(deps, ctx, { limit: 100 })).find((listed) => !known.has(listed.job_id));
			await new Promise((resolve) => setTimeout(resolve, 25));
		}
		expect(job).toMatchObject({ status: "running", counts: { users_created: 500 } });
		const jobId = job!.job_id!;
		// Alive: the heartbeat refreshes the row while the job waits for input (HEARTBEAT_MS, real time).
		t.clock.set(t.clock().getTime() + 60_000);
		const beatAt = t.clock().getTime();
		await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS + 1500));
		expect(Number((await deps.store.importJobs.find(t.tenantId, jobId))!.updated_at)).toBe(beatAt);
		expect(await getImportJob(deps, ctx, jobId)).toMatchObject({ status: "running" });
		// Dead: the clock jumps past STALE_MS in one step, as when no heartbeat came (the process was killed).
		t.clock.set(beatAt + STALE_MS + 1000);
		const [got, listed] = await Promise.all([getImportJob(deps, ctx, jobId), listImportJobs(deps, ctx, { limit: 100 })]);
		for (const seen of [got, listed.find((entry) => entry.job_id === jobId)!]) {
			expect(seen).toMatchObject({ status: "failed", error: { code: "interrupted" }, counts: { users_created: 500 } });
			expect(seen.finished_at).not.toBeNull();
		}
		await getImportJob(deps, ctx, jobId);
		// The job itself (it was only stalled here) cannot end it again: the conditional update decided once.
		release();
		expect(await running).toMatchObject({ job_id: jobId, status: "failed", error: { code: "interrupted" } });
		const failed = ((await t.call("GET", "/v1/events?type=import.failed")).json.events as { data: Record<string, unknown> }[]).filter((event) => event.data.job_id === jobId);
		expect(failed).toHaveLength(1);
		expect(failed[0]!.data.error).toMatchObject({ code: "interrupted" });
		expect(((await t.call("GET", "/v1/events?type=import.completed")).json.events as { data: Record<string, unknown> }[]).filter((event) => event.data.job_id === jobId)).toEqual([]);
	}, 60_000);

	it("an aborted signal (the CLI's SIGINT/SIGTERM) ends the job failed, interrupted, even while the reader waits; committed batches stay", async () => {
		const deps = t.app.services.deps;
		const controller = new AbortController();
		async function* forever(): AsyncGenerator<ImportItem> {
			for (let index = 0; index < 501; index += 1) yield record(`sig-${String(index).padStart(4, "0")}`, randomBytes(20));
			setTimeout(() => controller.abort(), 50);
			await new Promise(() => undefined);
		}
		const report = await importItems(deps, ctx, forever(), { format: "otpauth", dryRun: false, signal: controller.signal });
		expect(report).toMatchObject({ status: "failed", error: { code: "interrupted" }, counts: { users_created: 500 } });
		expect(await getImportJob(deps, ctx, report.job_id!)).toMatchObject({ status: "failed", error: { code: "interrupted" } });
		expect(await factorsOf("sig-0500")).toBeUndefined();
		const failed = ((await t.call("GET", "/v1/events?type=import.failed")).json.events as { data: Record<string, unknown> }[]).filter((event) => event.data.job_id === report.job_id);
		expect(failed).toHaveLength(1);
	});

	it("a signal does not make the job keep what it read: the live heap stays flat over 20,000 records (100,000 users in 250 MB)", async () => {
		// A Promise.race of each read against one long-lived "interrupted" promise kept every read's result on that
		// promise until the job ended: the live heap grew by the size of every record read (a 360 MB peak at 100,000).
		setFlagsFromString("--expose-gc");
		const gc = runInNewContext("gc") as () => void;
		const live = () => {
			gc();
			return getHeapStatistics().used_heap_size;
		};
		const controller = new AbortController();
		const measured: number[] = [];
		async function* file(): AsyncGenerator<ImportItem> {
			for (let index = 0; index < 20_000; index += 1) {
				if (index === 2_000) measured.push(live());
				// A 1 KB label per record: what a leak of the records read would keep, 20 MB in all.
				yield record(`heap-${index}`, randomBytes(20), { label: `label ${index} ${"x".repeat(1024)}` });
			}
			measured.push(live());
		}
		const report = await importItems(t.app.services.deps, ctx, file(), { format: "otpauth", dryRun: true, signal: controller.signal });
		expect(report.counts.records).toBe(20_000);
		expect(measured[1]! - measured[0]!, "bytes the live heap grew by over 18,000 records").toBeLessThan(8 * 1024 * 1024);
	});

	it("two imports of overlapping files at once both finish, each user imported once (PostgreSQL: locks in one order, a lost race retried)", async () => {
		const deps = t.app.services.deps;
		// Users whose ids sort differently by collation and by byte (case, punctuation), in opposite orders in the two files.
		const users = Array.from({ length: 1400 }, (_, index) => [`Con-${index}`, `con-${index}`, `c_on.${index}`, `CON_${index}`][index % 4]!);
		const fileOf = (ids: string[]) => ids.map((id) => record(id, randomBytes(20)));
		const [a, b] = await Promise.all([
			importItems(deps, ctx, itemsOf(fileOf(users.slice(0, 1000))), { format: "otpauth", dryRun: false }),
			importItems(deps, ctx, itemsOf(fileOf(users.slice(400).reverse())), { format: "otpauth", dryRun: false }),
		]);
		expect(a.status).toBe("completed");
		expect(b.status).toBe("completed");
		expect(a.counts.users_created + b.counts.users_created).toBe(1400);
		expect(a.counts.skipped + b.counts.skipped).toBe(600);
		const rows = await deps.store.factors.listLiveForUsers(t.tenantId, users);
		expect(rows).toHaveLength(1400);
		expect(new Set(rows.map((row) => row.user_id)).size).toBe(1400);

		// One serial, a different user in each file, both files at once: the later transaction loses the race on the
		// unique reference (23505) and its batch, decided again, refuses that user (reference_in_use); neither job fails.
		const serials = Array.from({ length: 300 }, (_, index) => `RACE-${index}`);
		const [c, d] = await Promise.all([
			importItems(deps, ctx, itemsOf(serials.map((serial) => record(`left-${serial}`, randomBytes(20), { serial }))), { format: "otpauth", dryRun: false }),
			importItems(deps, ctx, itemsOf(serials.map((serial) => record(`right-${serial}`, randomBytes(20), { serial }))), { format: "otpauth", dryRun: false }),
		]);
		expect([c.status, d.status]).toEqual(["completed", "completed"]);
		expect(c.counts.users_created + d.counts.users_created).toBe(300);
		expect(c.counts.invalid + d.counts.invalid).toBe(300);
		for (const entry of [...c.entries, ...d.entries]) expect(entry.code).toBe("reference_in_use");
		const owners = await deps.store.factors.findImportRefs(t.tenantId, serials.map((serial) => importRef(deps.keyring, { userId: "", type: "totp", secret: new Uint8Array(), serial })));
		expect(owners).toHaveLength(300);
	}, 120_000);

});
