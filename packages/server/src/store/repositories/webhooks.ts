import { type Kysely, sql } from "kysely";
import type { DialectName } from "../dialects.js";
import type { DueDelivery, WebhookDeliveryRepository, WebhookRepository } from "../store.js";
import type { Database } from "../tables.js";

export function webhookRepository(db: Kysely<Database>): WebhookRepository {
	const subscribe = async (tenantId: string, webhookId: string, eventTypes: readonly string[]): Promise<void> => {
		await db.deleteFrom("webhook_subscriptions").where("tenant_id", "=", tenantId).where("webhook_id", "=", webhookId).execute();
		if (eventTypes.length > 0) {
			await db
				.insertInto("webhook_subscriptions")
				.values(eventTypes.map((eventType) => ({ tenant_id: tenantId, webhook_id: webhookId, event_type: eventType })))
				.execute();
		}
	};
	return {
		async insert(row, eventTypes) {
			await db.insertInto("webhooks").values(row).execute();
			await subscribe(row.tenant_id, row.id, eventTypes);
		},
		list(tenantId) {
			return db.selectFrom("webhooks").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").orderBy("id").execute();
		},
		find(tenantId, id) {
			return db.selectFrom("webhooks").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
		},
		async update(tenantId, id, changes, eventTypes) {
			const found = await db.selectFrom("webhooks").select("id").where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
			if (found === undefined) return false;
			if (Object.keys(changes).length > 0) await db.updateTable("webhooks").set(changes).where("tenant_id", "=", tenantId).where("id", "=", id).execute();
			if (eventTypes !== undefined) await subscribe(tenantId, id, eventTypes);
			return true;
		},
		async delete(tenantId, id) {
			await db.deleteFrom("webhook_deliveries").where("tenant_id", "=", tenantId).where("webhook_id", "=", id).execute();
			await db.deleteFrom("webhook_subscriptions").where("tenant_id", "=", tenantId).where("webhook_id", "=", id).execute();
			const result = await db.deleteFrom("webhooks").where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
			return result.numDeletedRows > 0n;
		},
	};
}

export function webhookDeliveryRepository(db: Kysely<Database>, dialect: DialectName): WebhookDeliveryRepository {
	return {
		async claimDue(now, leaseUntil, limit) {
			let query = db
				.selectFrom("webhook_deliveries as d")
				.innerJoin("webhooks as w", (join) => join.onRef("w.tenant_id", "=", "d.tenant_id").onRef("w.id", "=", "d.webhook_id"))
				.selectAll("d")
				.select(["w.url", "w.secret_envelope", "w.previous_secret_envelope", "w.previous_secret_until"])
				.where("d.status", "=", "pending")
				.where("d.next_attempt_at", "<=", now)
				.where("w.enabled", "=", 1)
				.where(({ not, exists, selectFrom }) =>
					not(
						exists(
							selectFrom("webhook_deliveries as e")
								.select(sql`1`.as("one"))
								.whereRef("e.tenant_id", "=", "d.tenant_id")
								.whereRef("e.webhook_id", "=", "d.webhook_id")
								.where((eb) => eb.or([eb("e.user_id", "=", eb.ref("d.user_id")), eb.and([eb("e.user_id", "is", null), eb("d.user_id", "is", null)])]))
								.where("e.status", "=", "pending")
								.whereRef("e.seq", "<", "d.seq"),
						),
					),
				)
				.orderBy("d.seq")
				.limit(limit);
			if (dialect === "postgres") query = query.forUpdate("d").skipLocked();
			const rows: DueDelivery[] = (await query.execute()).map((row) => ({ ...row, seq: Number(row.seq) }));
			// One statement leases the whole batch (the rows are locked on PostgreSQL until this commits).
			if (rows.length > 0) {
				await db
					.updateTable("webhook_deliveries")
					.set({ next_attempt_at: leaseUntil })
					.where("seq", "in", rows.map((row) => row.seq))
					.execute();
			}
			return rows;
		},
		async backlog() {
			const row = await db
				.selectFrom("webhook_deliveries")
				.select((eb) => [eb.fn.countAll<number>().as("pending"), eb.fn.min("event_created_at").as("oldest")])
				.where("status", "=", "pending")
				.executeTakeFirstOrThrow();
			return { pending: Number(row.pending), oldestCreatedAt: row.oldest === null ? null : Number(row.oldest) };
		},
		async record(seq, outcome) {
			await db.updateTable("webhook_deliveries").set(outcome).where("seq", "=", seq).execute();
		},
		async list(tenantId, webhookId, limit) {
			const rows = await db
				.selectFrom("webhook_deliveries")
				.selectAll()
				.where("tenant_id", "=", tenantId)
				.where("webhook_id", "=", webhookId)
				.orderBy("seq", "desc")
				.limit(limit)
				.execute();
			return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
		},
		async retry(tenantId, webhookId, eventId, now) {
			const result = await db
				.updateTable("webhook_deliveries")
				.set({ status: "pending", next_attempt_at: now })
				.where("tenant_id", "=", tenantId)
				.where("webhook_id", "=", webhookId)
				.where("event_id", "=", eventId)
				.where("status", "!=", "delivered")
				.executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
	};
}
