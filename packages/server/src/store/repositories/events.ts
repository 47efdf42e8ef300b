import { type Kysely, sql } from "kysely";
import { preparedQuery } from "../prepared-query.js";
import type { EventRepository } from "../store.js";
import type { Database } from "../tables.js";

const append = preparedQuery(
	(db, id: string, tenantId: string, userId: string | null, type: string, factorId: string | null, data: string, createdAt: number) =>
		db.insertInto("events").values({ id, tenant_id: tenantId, user_id: userId, type, factor_id: factorId, data, created_at: createdAt }),
);

/**
 * The transactional outbox (issue 5, D-4): one delivery per enabled endpoint subscribed to the type (or to
 * "*"), inserted by the statement that follows the event's own insert, in the same transaction.
 */
const fanOut = preparedQuery(
	(db, id: string, tenantId: string, userId: string | null, type: string, factorId: string | null, data: string, createdAt: number) =>
		db.insertInto("webhook_deliveries").columns(["tenant_id", "webhook_id", "event_id", "event_type", "user_id", "factor_id", "data", "event_created_at", "status", "attempts", "next_attempt_at"]).expression((eb) =>
			eb
				.selectFrom("webhook_subscriptions as s")
				.innerJoin("webhooks as w", (join) => join.onRef("w.tenant_id", "=", "s.tenant_id").onRef("w.id", "=", "s.webhook_id"))
				.where("s.tenant_id", "=", tenantId)
				.where("s.event_type", "in", [type, "*"])
				.where("w.enabled", "=", 1)
				.select((s) => [
					"s.tenant_id",
					"s.webhook_id",
					s.val(id).as("event_id"),
					s.val(type).as("event_type"),
					s.val(userId).as("user_id"),
					s.val(factorId).as("factor_id"),
					s.val(data).as("data"),
					// Typed, because PostgreSQL reads an untyped parameter in a select list as text.
					s.cast<number>(s.val(createdAt), "bigint").as("event_created_at"),
					sql<"pending">`'pending'`.as("status"),
					sql<number>`0`.as("attempts"),
					s.cast<number>(s.val(createdAt), "bigint").as("next_attempt_at"),
				]),
		),
);

export function eventRepository(db: Kysely<Database>): EventRepository {
	return {
		async append(row) {
			await append(db, row.id, row.tenant_id, row.user_id, row.type, row.factor_id, row.data, row.created_at);
			await fanOut(db, row.id, row.tenant_id, row.user_id, row.type, row.factor_id, row.data, row.created_at);
		},
		async appendMany(rows) {
			if (rows.length === 0) return;
			// A bulk import's events (issue 17): a few multi-row statements instead of two per event. 7 columns a row:
			// 500 rows stay far under SQLite's and PostgreSQL's parameter limits.
			for (let start = 0; start < rows.length; start += 500) await db.insertInto("events").values(rows.slice(start, start + 500)).execute();
			// The outbox as append writes it, for the types some enabled endpoint of the tenant subscribes to (most often none).
			const tenants = [...new Set(rows.map((row) => row.tenant_id))];
			const subscribed = await db
				.selectFrom("webhook_subscriptions as s")
				.innerJoin("webhooks as w", (join) => join.onRef("w.tenant_id", "=", "s.tenant_id").onRef("w.id", "=", "s.webhook_id"))
				.where("s.tenant_id", "in", tenants)
				.where("w.enabled", "=", 1)
				.select(["s.tenant_id", "s.event_type"])
				.distinct()
				.execute();
			if (subscribed.length === 0) return;
			const wanted = new Set(subscribed.map((row) => `${row.tenant_id}\u0000${row.event_type}`));
			for (const row of rows) {
				if (!wanted.has(`${row.tenant_id}\u0000${row.type}`) && !wanted.has(`${row.tenant_id}\u0000*`)) continue;
				await fanOut(db, row.id, row.tenant_id, row.user_id, row.type, row.factor_id, row.data, row.created_at);
			}
		},
		async noteOperator(eventId, tenantId, operatorId, createdAt) {
			await db.insertInto("event_actors").values({ event_id: eventId, tenant_id: tenantId, operator_id: operatorId, created_at: createdAt }).execute();
		},
		async list(tenantId, query) {
			let select = db.selectFrom("events").selectAll().where("tenant_id", "=", tenantId);
			if (query.userId !== undefined) select = select.where("user_id", "=", query.userId);
			if (query.type !== undefined) select = select.where("type", "=", query.type);
			if (query.beforeSeq !== undefined) select = select.where("seq", "<", query.beforeSeq);
			if (query.from !== undefined) select = select.where("created_at", ">=", query.from);
			if (query.until !== undefined) select = select.where("created_at", "<", query.until);
			if (query.operatorId !== undefined) {
				const operatorId = query.operatorId;
				select = select.where("id", "in", (eb) => eb.selectFrom("event_actors").select("event_id").where("tenant_id", "=", tenantId).where("operator_id", "=", operatorId));
			}
			const rows = await select.orderBy("seq", "desc").limit(query.limit).execute();
			return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
		},
	};
}
