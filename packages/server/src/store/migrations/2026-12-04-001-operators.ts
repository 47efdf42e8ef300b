import type { Kysely } from "kysely";

// Frozen in time. Console operators (issue 16): support staff and administrators, users of the reserved system
// tenant (core/system-tenant.ts), managed by the CLI only.
// - name: the operator's user id in the system tenant and the console's login_hint; unique.
// - role: viewer | support | admin. tenant_scope: "*" (every tenant) or a JSON array of tenant ids.
// - status: active | disabled; disabled_at when disabled.
// - enrollment_hash: SHA-256 of the one-time enrollment link's token (never the token), with its expiry and the
//   time it was used; unique, so a presented token finds at most one operator.
export async function up(db: Kysely<any>): Promise<void> {
	await db.schema
		.createTable("operators")
		.addColumn("id", "text", (c) => c.primaryKey())
		.addColumn("name", "text", (c) => c.notNull().unique())
		.addColumn("role", "text", (c) => c.notNull())
		.addColumn("tenant_scope", "text", (c) => c.notNull())
		.addColumn("status", "text", (c) => c.notNull())
		.addColumn("created_at", "bigint", (c) => c.notNull())
		.addColumn("disabled_at", "bigint")
		.addColumn("enrollment_hash", "text", (c) => c.unique())
		.addColumn("enrollment_expires_at", "bigint")
		.addColumn("enrollment_used_at", "bigint")
		.execute();
}
