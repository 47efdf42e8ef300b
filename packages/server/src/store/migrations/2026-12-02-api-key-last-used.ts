import type { Kysely } from "kysely";

// Frozen in time (issue 13). When an API key last authenticated, to the minute (services/api-keys.ts writes it at
// most once a minute per key), so an operator can tell unused keys from live ones before revoking. Null: not used
// since this column exists.
export async function up(db: Kysely<any>): Promise<void> {
	await db.schema.alterTable("api_keys").addColumn("last_used_at", "bigint").execute();
}
