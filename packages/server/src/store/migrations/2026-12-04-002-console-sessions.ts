import type { Kysely } from "kysely";

// Frozen in time. The console's signed-in sessions (issue 16).
// - id_hash: SHA-256 of the session cookie (256 random bits), never the cookie.
// - operator_id: the operator (operators.id). created_at, last_seen_at (bounded by the idle timeout), expires_at
//   (the absolute lifetime), verified_at (the last fresh prompt verification: sign-in or step-up), ended_at (sign-out).
export async function up(db: Kysely<any>): Promise<void> {
	await db.schema
		.createTable("console_sessions")
		.addColumn("id_hash", "text", (c) => c.primaryKey())
		.addColumn("operator_id", "text", (c) => c.notNull())
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.addColumn("last_seen_at", "bigint", (c) => c.notNull())
		.addColumn("verified_at", "bigint", (c) => c.notNull())
		.addColumn("expires_at", "bigint", (c) => c.notNull())
		.addColumn("ended_at", "bigint")
		.execute();
	await db.schema.createIndex("console_sessions_operator").on("console_sessions").columns(["operator_id"]).execute();
}
