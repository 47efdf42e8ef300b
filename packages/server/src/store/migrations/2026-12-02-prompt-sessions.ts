import { type CreateTableBuilder, type Kysely, sql } from "kysely";

// Frozen in time. The hosted prompt's per-browser, per-interaction state (issue 15): durable, so a restart or
// another node serves the next page. Rows expire with their interaction and are swept.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
	const clustered = <T extends string, C extends string>(table: CreateTableBuilder<T, C>): CreateTableBuilder<T, C> =>
		dialect === "sqlite" ? table.modifyEnd(sql`without rowid`) : table;
	await db.schema
		.createTable("prompt_sessions")
		.addColumn("id_hash", "text", (c) => c.notNull())
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("interaction_uid", "text", (c) => c.notNull())
		.addColumn("user_id", "text", (c) => c.notNull())
		.addColumn("proved_at", "bigint")
		.addColumn("proved_method", "text")
		.addColumn("proof_envelope", "text")
		.addColumn("pending_factor_id", "text")
		.addColumn("enrollment_envelope", "text")
		.addColumn("recovery_codes_envelope", "text")
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.addColumn("expires_at", "bigint", (c) => c.notNull())
		.addPrimaryKeyConstraint("prompt_sessions_pk", ["id_hash", "tenant_id", "interaction_uid"])
		.addForeignKeyConstraint("prompt_sessions_tenant_fk", ["tenant_id"], "tenants", ["id"], (c) => c.onDelete("cascade"))
		.$call(clustered)
		.execute();
	await db.schema.createIndex("prompt_sessions_expiry").on("prompt_sessions").column("expires_at").execute();
}
