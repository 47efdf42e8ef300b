import { type Kysely, sql } from "kysely";

// Frozen in time. "Request a reset" on the prompt's lost-access page (issue 15) records a user.recovery_requested
// event at most once an hour per user: this row holds when the last one was recorded, and a conditional upsert on it
// is the decision (services/users.ts requestRecovery).
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
	await db.schema
		.createTable("recovery_requests")
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("user_id", "text", (c) => c.notNull())
		.addColumn("last_recorded_at", "bigint", (c) => c.notNull())
		.addPrimaryKeyConstraint("recovery_requests_pk", ["tenant_id", "user_id"])
		.$call((table) => (dialect === "sqlite" ? table.modifyEnd(sql`without rowid`) : table))
		.execute();
}
