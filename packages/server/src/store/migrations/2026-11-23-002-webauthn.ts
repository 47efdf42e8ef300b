import { type CreateTableBuilder, type Kysely, sql } from "kysely";

// Frozen in time, like 001. WebAuthn credentials and ceremony challenges (issue 3).
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
	const clustered = <T extends string, C extends string>(table: CreateTableBuilder<T, C>): CreateTableBuilder<T, C> =>
		dialect === "sqlite" ? table.modifyEnd(sql`without rowid`) : table;

	await db.schema
		.createTable("webauthn_credentials")
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("user_id", "text", (c) => c.notNull())
		.addColumn("factor_id", "text", (c) => c.notNull())
		.addColumn("credential_id", "text", (c) => c.notNull())
		.addColumn("public_key", "text", (c) => c.notNull())
		.addColumn("sign_count", "bigint", (c) => c.notNull())
		.addColumn("transports", "text", (c) => c.notNull())
		.addColumn("user_handle", "text", (c) => c.notNull())
		.addColumn("backed_up", "integer", (c) => c.notNull())
		.addColumn("device_type", "text", (c) => c.notNull())
		.addColumn("aaguid", "text", (c) => c.notNull())
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.addPrimaryKeyConstraint("webauthn_credentials_pk", ["tenant_id", "user_id", "factor_id"])
		.addForeignKeyConstraint("webauthn_credentials_factor_fk", ["tenant_id", "user_id", "factor_id"], "factors", ["tenant_id", "user_id", "id"], (c) =>
			c.onDelete("cascade"),
		)
		.$call(clustered)
		.execute();
	// R-WA-6: one credential id, one binding, across every tenant and user. The index is the check:
	// two concurrent registrations of one credential cannot both commit.
	await db.schema.createIndex("webauthn_credentials_credential_key").on("webauthn_credentials").column("credential_id").unique().execute();

	await db.schema
		.createTable("challenges")
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("user_id", "text", (c) => c.notNull())
		.addColumn("id", "text", (c) => c.notNull())
		.addColumn("ceremony", "text", (c) => c.notNull())
		.addColumn("factor_id", "text")
		.addColumn("challenge", "text", (c) => c.notNull())
		.addColumn("user_handle", "text")
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.addColumn("expires_at", "bigint", (c) => c.notNull())
		.addColumn("consumed_at", "bigint")
		.addPrimaryKeyConstraint("challenges_pk", ["tenant_id", "user_id", "id"])
		.addForeignKeyConstraint("challenges_user_fk", ["tenant_id", "user_id"], "users", ["tenant_id", "id"], (c) => c.onDelete("cascade"))
		.$call(clustered)
		.execute();
}
