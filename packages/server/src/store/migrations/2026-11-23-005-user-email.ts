import type { Kysely } from "kysely";

// Frozen in time. The address a user's email codes went to, kept only when the tenant opts in
// (email.store_address): admin-reset notices then reach the user without the application passing it.
export async function up(db: Kysely<any>): Promise<void> {
	await db.schema.alterTable("users").addColumn("email", "text").execute();
}
