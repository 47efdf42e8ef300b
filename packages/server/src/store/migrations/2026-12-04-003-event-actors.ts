import type { Kysely } from "kysely";

// Frozen in time. Which console operator did what (issue 16): one row per event an operator caused, so the console's
// events page filters by operator through an index, while the events table (written by every verify) is unchanged.
export async function up(db: Kysely<any>): Promise<void> {
	await db.schema
		.createTable("event_actors")
		.addColumn("event_id", "text", (c) => c.primaryKey())
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("operator_id", "text", (c) => c.notNull())
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.execute();
	await db.schema.createIndex("event_actors_operator").on("event_actors").columns(["tenant_id", "operator_id", "created_at"]).execute();
}
