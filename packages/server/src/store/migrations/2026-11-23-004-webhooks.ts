import { type CreateTableBuilder, type Kysely, sql } from "kysely";

// Frozen in time, like the others. Webhook endpoints and their deliveries (issue 5): the deliveries are the
// transactional outbox, written in the same transaction as the event they carry.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
	const clustered = <T extends string, C extends string>(table: CreateTableBuilder<T, C>): CreateTableBuilder<T, C> =>
		dialect === "sqlite" ? table.modifyEnd(sql`without rowid`) : table;

	await db.schema
		.createTable("webhooks")
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("id", "text", (c) => c.notNull())
		.addColumn("url", "text", (c) => c.notNull())
		.addColumn("events", "text", (c) => c.notNull()) // JSON array, as created: ["*"] or event types
		.addColumn("enabled", "integer", (c) => c.notNull())
		.addColumn("secret_envelope", "text", (c) => c.notNull()) // sealed: Twofold signs with it, so it is kept, encrypted
		.addColumn("previous_secret_envelope", "text") // during a rotation's overlap, both sign
		.addColumn("previous_secret_until", "bigint")
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.addColumn("disabled_at", "bigint")
		.addPrimaryKeyConstraint("webhooks_pk", ["tenant_id", "id"])
		.$call(clustered)
		.execute();

	// One row per subscribed type ("*" for all): the outbox fan-out is one indexed INSERT … SELECT per event.
	await db.schema
		.createTable("webhook_subscriptions")
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("event_type", "text", (c) => c.notNull())
		.addColumn("webhook_id", "text", (c) => c.notNull())
		.addPrimaryKeyConstraint("webhook_subscriptions_pk", ["tenant_id", "event_type", "webhook_id"])
		.addForeignKeyConstraint("webhook_subscriptions_webhook_fk", ["tenant_id", "webhook_id"], "webhooks", ["tenant_id", "id"], (c) => c.onDelete("cascade"))
		.$call(clustered)
		.execute();

	await db.schema
		.createTable("webhook_deliveries")
		// The payload's sequence number: receivers order by it (several nodes may commit out of order).
		.addColumn("seq", dialect === "postgres" ? "bigserial" : "integer", (c) => c.primaryKey())
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("webhook_id", "text", (c) => c.notNull())
		// The event's id is the delivery's id within its webhook and the webhook-id header: stable across retries.
		.addColumn("event_id", "text", (c) => c.notNull())
		.addColumn("event_type", "text", (c) => c.notNull())
		.addColumn("user_id", "text")
		.addColumn("factor_id", "text")
		.addColumn("data", "text", (c) => c.notNull())
		.addColumn("event_created_at", "bigint", (c) => c.notNull())
		.addColumn("status", "text", (c) => c.notNull()) // pending | delivered | failed
		.addColumn("attempts", "integer", (c) => c.notNull())
		.addColumn("next_attempt_at", "bigint", (c) => c.notNull())
		.addColumn("last_status_code", "integer")
		.addColumn("last_error", "text")
		.addColumn("delivered_at", "bigint")
		.addForeignKeyConstraint("webhook_deliveries_webhook_fk", ["tenant_id", "webhook_id"], "webhooks", ["tenant_id", "id"], (c) => c.onDelete("cascade"))
		.execute();
	await db.schema.createIndex("webhook_deliveries_event_key").on("webhook_deliveries").columns(["tenant_id", "webhook_id", "event_id"]).unique().execute();
	await db.schema.createIndex("webhook_deliveries_due_idx").on("webhook_deliveries").columns(["status", "next_attempt_at"]).execute();
}
