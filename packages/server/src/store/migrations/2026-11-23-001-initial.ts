import { type CreateTableBuilder, type Kysely, sql } from "kysely";

// Frozen in time: later schema changes get a new migration, never an edit here.
// Kysely<any> because the Database type moves on while this file must not.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
	// Per-user rows are keyed (tenant_id, user_id, id) and, on SQLite, stored WITHOUT ROWID: the row
	// lives in its primary-key B-tree, so the verify path's lookups and updates descend one tree instead
	// of an index and then the table (docs/decisions/0005). Every access names the user, so no index on
	// id alone is kept; ids are 128-bit random, and the key makes them unique per user regardless.
	const clustered = <T extends string, C extends string>(table: CreateTableBuilder<T, C>): CreateTableBuilder<T, C> =>
		dialect === "sqlite" ? table.modifyEnd(sql`without rowid`) : table;

	await db.schema
		.createTable("tenants")
		.addColumn("id", "text", (c) => c.primaryKey())
		.addColumn("name", "text", (c) => c.notNull())
		.addColumn("settings", "text", (c) => c.notNull())
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.execute();

	await db.schema
		.createTable("api_keys")
		.addColumn("id", "text", (c) => c.primaryKey())
		.addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
		.addColumn("secret_hash", "text", (c) => c.notNull())
		.addColumn("scope", "text", (c) => c.notNull())
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.addColumn("revoked_at", "bigint")
		.execute();

	await db.schema
		.createTable("users")
		.addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
		.addColumn("id", "text", (c) => c.notNull())
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.addColumn("failed_attempts", "integer", (c) => c.notNull().defaultTo(0))
		.addColumn("next_attempt_at", "bigint", (c) => c.notNull().defaultTo(0))
		.addColumn("locked_at", "bigint")
		.addPrimaryKeyConstraint("users_pk", ["tenant_id", "id"])
		.$call(clustered)
		.execute();

	await db.schema
		.createTable("factors")
		.addColumn("id", "text", (c) => c.notNull())
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("user_id", "text", (c) => c.notNull())
		.addColumn("type", "text", (c) => c.notNull())
		.addColumn("status", "text", (c) => c.notNull())
		.addColumn("label", "text", (c) => c.notNull())
		.addColumn("secret_envelope", "text")
		// TOTP parameters; null for factor types without a shared secret (WebAuthn).
		.addColumn("algorithm", "text")
		.addColumn("digits", "integer")
		.addColumn("period", "integer")
		.addColumn("last_used_step", "bigint", (c) => c.notNull().defaultTo(-1))
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.addColumn("expires_at", "bigint")
		.addColumn("activated_at", "bigint")
		.addColumn("last_used_at", "bigint")
		.addColumn("deleted_at", "bigint")
		.addPrimaryKeyConstraint("factors_pk", ["tenant_id", "user_id", "id"])
		.addForeignKeyConstraint("factors_user_fk", ["tenant_id", "user_id"], "users", ["tenant_id", "id"], (c) => c.onDelete("cascade"))
		.$call(clustered)
		.execute();

	await db.schema
		.createTable("recovery_codes")
		.addColumn("id", "text", (c) => c.notNull())
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("user_id", "text", (c) => c.notNull())
		.addColumn("salt", "text", (c) => c.notNull())
		.addColumn("hash", "text", (c) => c.notNull())
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.addColumn("used_at", "bigint")
		.addPrimaryKeyConstraint("recovery_codes_pk", ["tenant_id", "user_id", "id"])
		.addForeignKeyConstraint("recovery_codes_user_fk", ["tenant_id", "user_id"], "users", ["tenant_id", "id"], (c) => c.onDelete("cascade"))
		.$call(clustered)
		.execute();

	// An ever-increasing sequence for ordering and cursors. On SQLite the rowid is max + 1, which only
	// repeats a value if the newest row is deleted; events are append-only, so AUTOINCREMENT (one more
	// B-tree write per append, to sqlite_sequence) buys nothing.
	await db.schema
		.createTable("events")
		.addColumn("seq", dialect === "postgres" ? "bigserial" : "integer", (c) => c.primaryKey())
		// 128 random bits: unique without an index to maintain on every append.
		.addColumn("id", "text", (c) => c.notNull())
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("user_id", "text")
		.addColumn("type", "text", (c) => c.notNull())
		.addColumn("factor_id", "text")
		.addColumn("data", "text", (c) => c.notNull())
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.execute();
	await db.schema.createIndex("events_tenant_seq_idx").on("events").columns(["tenant_id", "seq"]).execute();
}
