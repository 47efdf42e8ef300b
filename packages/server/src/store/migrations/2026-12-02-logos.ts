import { type Kysely, sql } from "kysely";

// Frozen in time. Logos for the hosted prompt (issue 15): uploaded by the tenant and stored here, so a page never
// loads an image from another origin and Twofold never fetches one. owner is "tenant" or "client:<client id>". The
// bytes are a raster image checked at upload (services/logos.ts), at most 64 KB.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
	await db.schema
		.createTable("logos")
		.addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
		.addColumn("owner", "text", (c) => c.notNull())
		.addColumn("content_type", "text", (c) => c.notNull())
		.addColumn("bytes", dialect === "postgres" ? "bytea" : "blob", (c) => c.notNull())
		// A strong validator for the public route's ETag: the SHA-256 of the bytes, hex.
		.addColumn("sha256", "text", (c) => c.notNull())
		.addColumn("updated_at", "bigint", (c) => c.notNull())
		.addPrimaryKeyConstraint("logos_pk", ["tenant_id", "owner"])
		.$call((table) => (dialect === "sqlite" ? table.modifyEnd(sql`without rowid`) : table))
		.execute();
}
