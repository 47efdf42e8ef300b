import { type Kysely, sql } from "kysely";
import type { DialectName } from "../dialects.js";
import { preparedQuery } from "../prepared-query.js";
import type { FactorRepository } from "../store.js";
import type { Database, FactorTable } from "../tables.js";

// The verify hot path: built once per dialect (prepared-query.ts).
/** Steps or counters first … last consumed whole: a single step is first = last (R-OTP-1). */
const consumeRun = preparedQuery((db, first: number, last: number, now: number, tenantId: string, userId: string, factorId: string) =>
	db
		.updateTable("factors")
		// A consumed code or counter run clears needs_resync: the verify refuses such a factor before it gets here,
		// so only a resync's two codes can be the first consumption of an HOTP token imported without a counter.
		.set({ last_used_step: last, last_used_at: now, needs_resync: 0 })
		.where("tenant_id", "=", tenantId)
		.where("user_id", "=", userId)
		.where("id", "=", factorId)
		.where("status", "=", "active")
		.where("last_used_step", "<", first),
);

export function factorRepository(db: Kysely<Database>, dialect: DialectName): FactorRepository {
	return {
		async insert(row) {
			await db.insertInto("factors").values(row).execute();
		},
		find(tenantId, userId, factorId) {
			return db
				.selectFrom("factors")
				.selectAll()
				.where("id", "=", factorId)
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.executeTakeFirst();
		},
		listForUser(tenantId, userId) {
			return db
				.selectFrom("factors")
				.selectAll()
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.orderBy("created_at")
				.orderBy("id")
				.execute();
		},
		async consumeStep(tenantId, userId, factorId, step, now) {
			const result = await consumeRun(db, step, step, now, tenantId, userId, factorId);
			return (result.numAffectedRows ?? 0n) > 0n;
		},
		async consumeCounters(tenantId, userId, factorId, first, last, now) {
			const result = await consumeRun(db, first, last, now, tenantId, userId, factorId);
			return (result.numAffectedRows ?? 0n) > 0n;
		},
		async activate(tenantId, userId, factorId, step, now) {
			const result = await db
				.updateTable("factors")
				.set({ status: "active", activated_at: now, expires_at: null, last_used_step: step, last_used_at: now })
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("id", "=", factorId)
				.where("status", "=", "pending")
				.where("expires_at", ">", now)
				.executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
		async touch(tenantId, userId, factorId, now) {
			await db
				.updateTable("factors")
				.set({ last_used_at: now })
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("id", "=", factorId)
				.execute();
		},
		async totpPeriods() {
			const rows = await db.selectFrom("factors").select("period").distinct().where("type", "=", "totp").where("status", "!=", "deleted").execute();
			return rows.map((row) => Number(row.period)).filter((period) => Number.isInteger(period) && period > 0);
		},
		async raiseLastUsedStep(period, step) {
			const result = await db
				.updateTable("factors")
				.set({ last_used_step: step })
				.where("type", "=", "totp")
				.where("status", "!=", "deleted")
				.where("period", "=", period)
				.where("last_used_step", "<", step)
				.executeTakeFirst();
			return Number(result.numUpdatedRows);
		},
		async advanceHOTPCounters(tenantId, by) {
			// Counters are read as JavaScript numbers: one that would pass 2^53-1 stops there (core/hotp-window.ts).
			const max = Number.MAX_SAFE_INTEGER;
			const result = await db
				.updateTable("factors")
				.set({ last_used_step: sql<number>`case when last_used_step > ${max - by} then ${max} else last_used_step + ${by} end` })
				.where("tenant_id", "=", tenantId)
				.where("type", "=", "hotp")
				.where("status", "!=", "deleted")
				.executeTakeFirst();
			return Number(result.numUpdatedRows);
		},
		activeForExport(tenantId, page) {
			let users = db.selectFrom("factors").select("user_id").distinct().where("tenant_id", "=", tenantId).where("status", "=", "active");
			if (page.afterUserId !== null) users = users.where("user_id", ">", page.afterUserId);
			if (page.userIds !== undefined) users = users.where("user_id", "in", page.userIds.length === 0 ? [""] : [...page.userIds]);
			return db
				.selectFrom("factors")
				.selectAll()
				.where("tenant_id", "=", tenantId)
				.where("status", "=", "active")
				.where("user_id", "in", users.orderBy("user_id").limit(page.limit))
				.orderBy("user_id")
				.orderBy("created_at")
				.orderBy("id")
				.execute();
		},
		async discardPending(tenantId, userId, factorIds) {
			if (factorIds.length === 0) return [];
			const removed = await db
				.deleteFrom("factors")
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("id", "in", [...factorIds])
				.where("status", "=", "pending")
				.returning("id")
				.execute();
			const ids = removed.map((row) => row.id);
			if (ids.length > 0) {
				await db
					.deleteFrom("challenges")
					.where("tenant_id", "=", tenantId)
					.where("user_id", "=", userId)
					.where("ceremony", "=", "registration")
					.where("factor_id", "in", ids)
					.execute();
			}
			return ids;
		},
		async markDeleted(tenantId, userId, factorId, now) {
			const result = await db
				.updateTable("factors")
				.set({ status: "deleted", deleted_at: now, secret_envelope: null })
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("id", "=", factorId)
				.where("status", "!=", "deleted")
				.executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
		async insertMany(rows) {
			// Bounded statements: SQLite allows 32,766 parameters, PostgreSQL 65,535; a factor row has 20 columns.
			for (let start = 0; start < rows.length; start += 500) {
				await db.insertInto("factors").values(rows.slice(start, start + 500)).execute();
			}
		},
		async findImportRefs(tenantId, refs) {
			const found: { import_ref: string; user_id: string; import_job_id: string | null }[] = [];
			for (let start = 0; start < refs.length; start += 1000) {
				const chunk = refs.slice(start, start + 1000);
				// SQLite, without statistics, plans `tenant_id = ? AND import_ref IN (…)` on the primary key's tenant range,
				// so each batch's lookup scanned the tenant's factors: 49 ms a batch at 100,000 factors, against 3.6 ms on the
				// partial index factors_import_ref (the import bench, issue 17). The index is named there, with its condition
				// written literally so that it applies; PostgreSQL picks it itself.
				const rows =
					dialect === "sqlite"
						? (
								await sql<{ import_ref: string | null; user_id: string; import_job_id: string | null }>`select import_ref, user_id, import_job_id from factors indexed by factors_import_ref where tenant_id = ${tenantId} and import_ref in (${sql.join(chunk)}) and import_ref is not null and status <> 'deleted'`.execute(db)
							).rows
						: await db
								.selectFrom("factors")
								.select(["import_ref", "user_id", "import_job_id"])
								.where("tenant_id", "=", tenantId)
								.where("import_ref", "in", chunk)
								.where("status", "!=", "deleted")
								.execute();
				for (const row of rows) if (row.import_ref !== null && row.import_ref !== undefined) found.push({ import_ref: row.import_ref, user_id: row.user_id, import_job_id: row.import_job_id ?? null });
			}
			return found;
		},
		async listLiveForUsers(tenantId, userIds) {
			const found: FactorTable[] = [];
			for (let start = 0; start < userIds.length; start += 1000) {
				found.push(
					...(await db
						.selectFrom("factors")
						.selectAll()
						.where("tenant_id", "=", tenantId)
						.where("user_id", "in", userIds.slice(start, start + 1000))
						.where("status", "!=", "deleted")
						.orderBy("created_at")
						.orderBy("id")
						.execute()),
				);
			}
			return found;
		},
		async rename(tenantId, userId, factorId, label) {
			const result = await db
				.updateTable("factors")
				.set({ label })
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("id", "=", factorId)
				.where("status", "!=", "deleted")
				.executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
	};
}
