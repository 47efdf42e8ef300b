import { type CreateTableBuilder, type Kysely, sql } from "kysely";

// Frozen in time. The hosted prompt's OpenID Connect side (issue 15): the registered clients of each tenant, what
// oidc-provider stores (interactions, pushed requests, codes, grants) so it survives a restart and works across
// nodes, and the purpose of a signing key, since the prompt's id_tokens get keys of their own.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
	const clustered = <T extends string, C extends string>(table: CreateTableBuilder<T, C>): CreateTableBuilder<T, C> =>
		dialect === "sqlite" ? table.modifyEnd(sql`without rowid`) : table;

	await db.schema
		.createTable("clients")
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("id", "text", (c) => c.notNull())
		.addColumn("name", "text", (c) => c.notNull())
		.addColumn("redirect_uris", "text", (c) => c.notNull())
		.addColumn("post_logout_redirect_uris", "text", (c) => c.notNull())
		.addColumn("token_endpoint_auth_method", "text", (c) => c.notNull())
		.addColumn("jwks", "text")
		.addColumn("id_token_signed_response_alg", "text", (c) => c.notNull())
		.addColumn("secret_envelope", "text") // sealed, bound to (tenant, client); null for private_key_jwt
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.addColumn("updated_at", "bigint", (c) => c.notNull())
		.addPrimaryKeyConstraint("clients_pk", ["tenant_id", "id"])
		.addForeignKeyConstraint("clients_tenant_fk", ["tenant_id"], "tenants", ["id"])
		.$call(clustered)
		.execute();
	// A client_id is found by the provider of one tenant only, but ids are unique across tenants too.
	await db.schema.createIndex("clients_id_key").on("clients").column("id").unique().execute();

	await db.schema
		.createTable("oidc_payloads")
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("model", "text", (c) => c.notNull())
		.addColumn("id_hash", "text", (c) => c.notNull())
		.addColumn("grant_id", "text")
		.addColumn("uid_hash", "text")
		.addColumn("payload", "text", (c) => c.notNull())
		.addColumn("expires_at", "bigint", (c) => c.notNull())
		.addColumn("consumed_at", "bigint")
		.addPrimaryKeyConstraint("oidc_payloads_pk", ["tenant_id", "model", "id_hash"])
		.$call(clustered)
		.execute();
	await db.schema.createIndex("oidc_payloads_grant_idx").on("oidc_payloads").columns(["tenant_id", "grant_id"]).execute();
	await db.schema.createIndex("oidc_payloads_uid_idx").on("oidc_payloads").columns(["tenant_id", "model", "uid_hash"]).execute();
	await db.schema.createIndex("oidc_payloads_expiry_idx").on("oidc_payloads").column("expires_at").execute();

	await db.schema.alterTable("signing_keys").addColumn("purpose", "text", (c) => c.notNull().defaultTo("assertion")).execute();
}
