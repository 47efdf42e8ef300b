import type { Kysely } from "kysely";
import type { RollupRepository } from "../store.js";
import type { Database } from "../tables.js";

/** The console overview's rollups (issue 16): the fold's reads and writes, and the charts' reads. */
export function rollupRepository(db: Kysely<Database>, dialect: "sqlite" | "postgres"): RollupRepository {
	return {
		async lockCursor() {
			const select = db.selectFrom("rollup_cursor").select("seq").where("name", "=", "events");
			// SQLite has one writer: the fold's transaction holds it, so no second fold reads this row meanwhile.
			const row = await (dialect === "postgres" ? select.forUpdate() : select).executeTakeFirst();
			return Number(row?.seq ?? 0);
		},
		async setCursor(seq) {
			await db.updateTable("rollup_cursor").set({ seq }).where("name", "=", "events").execute();
		},
		eventsAfter(afterSeq, limit) {
			return db.selectFrom("events").select(["seq", "tenant_id", "user_id", "type", "data", "created_at"]).where("seq", ">", afterSeq).orderBy("seq").limit(limit).execute();
		},
		async addCounts(rows) {
			// 4 parameters a row: 200 rows stay far under either database's parameter limit.
			for (let start = 0; start < rows.length; start += 200) {
				await db
					.insertInto("event_rollups")
					.values(rows.slice(start, start + 200))
					.onConflict((oc) => oc.columns(["tenant_id", "hour", "metric"]).doUpdateSet((eb) => ({ count: eb("event_rollups.count", "+", eb.ref("excluded.count")) })))
					.execute();
			}
		},
		async activeKinds(tenantId, userId) {
			const rows = await db.selectFrom("factors").select("type").distinct().where("tenant_id", "=", tenantId).where("user_id", "=", userId).where("status", "=", "active").execute();
			return rows.map((row) => row.type);
		},
		async censusOf(tenantId, userId) {
			const row = await db.selectFrom("factor_census").select("kinds").where("tenant_id", "=", tenantId).where("user_id", "=", userId).executeTakeFirst();
			return row?.kinds ?? 0;
		},
		async setCensus(tenantId, userId, kinds) {
			if (kinds === 0) {
				await db.deleteFrom("factor_census").where("tenant_id", "=", tenantId).where("user_id", "=", userId).execute();
				return;
			}
			await db
				.insertInto("factor_census")
				.values({ tenant_id: tenantId, user_id: userId, kinds })
				.onConflict((oc) => oc.columns(["tenant_id", "user_id"]).doUpdateSet({ kinds }))
				.execute();
		},
		async addGauges(tenantId, deltas) {
			for (const [metric, delta] of Object.entries(deltas)) {
				if (delta === 0) continue;
				await db
					.insertInto("rollup_gauges")
					.values({ tenant_id: tenantId, metric, value: delta })
					.onConflict((oc) => oc.columns(["tenant_id", "metric"]).doUpdateSet((eb) => ({ value: eb("rollup_gauges.value", "+", eb.ref("excluded.value")) })))
					.execute();
			}
		},
		async prune(before) {
			// A small table (tenants × 8 days × a few metrics): one statement.
			const result = await db.deleteFrom("event_rollups").where("hour", "<", before).executeTakeFirst();
			return Number(result.numDeletedRows);
		},
		async counts(tenantId, since) {
			const rows = await db.selectFrom("event_rollups").selectAll().where("tenant_id", "=", tenantId).where("hour", ">=", since).orderBy("hour").execute();
			return rows.map((row) => ({ ...row, hour: Number(row.hour), count: Number(row.count) }));
		},
		async gauges(tenantId) {
			const rows = await db.selectFrom("rollup_gauges").selectAll().where("tenant_id", "=", tenantId).execute();
			return rows.map((row) => ({ ...row, value: Number(row.value) }));
		},
		async webhookBacklog(tenantId) {
			// status first: the delivery worker's (status, next_attempt_at) index holds only what is pending across tenants,
			// the backlog, not the delivered history.
			const rows = await db
				.selectFrom("webhook_deliveries")
				.select((eb) => ["webhook_id", eb.fn.countAll<number>().as("pending"), eb.fn.sum<number>(eb.case().when("attempts", ">", 0).then(1).else(0).end()).as("retrying"), eb.fn.min<number>("event_created_at").as("oldest")])
				.where("status", "=", "pending")
				.where("tenant_id", "=", tenantId)
				.groupBy("webhook_id")
				.execute();
			return rows.map((row) => ({ webhook_id: row.webhook_id, pending: Number(row.pending), retrying: Number(row.retrying), oldest: Number(row.oldest) }));
		},
		async position() {
			const cursor = await db.selectFrom("rollup_cursor").select("seq").where("name", "=", "events").executeTakeFirst();
			const newest = await db.selectFrom("events").select("seq").orderBy("seq", "desc").limit(1).executeTakeFirst();
			return { cursor: Number(cursor?.seq ?? 0), newest: Number(newest?.seq ?? 0) };
		},
	};
}
