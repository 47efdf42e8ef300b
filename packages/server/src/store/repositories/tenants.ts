import { type Kysely, sql } from "kysely";
import type { TenantRepository } from "../store.js";
import type { Database } from "../tables.js";

export function tenantRepository(db: Kysely<Database>, dialect: "sqlite" | "postgres"): TenantRepository {
	return {
		async lockForInsert() {
			// SHARE ROW EXCLUSIVE conflicts with itself and with inserts, not with reads.
			if (dialect === "postgres") await sql`lock table tenants in share row exclusive mode`.execute(db);
		},
		async insert(row) {
			await db.insertInto("tenants").values(row).execute();
		},
		find(id) {
			return db.selectFrom("tenants").selectAll().where("id", "=", id).executeTakeFirst();
		},
		findForUpdate(id) {
			const query = db.selectFrom("tenants").selectAll().where("id", "=", id);
			return (dialect === "postgres" ? query.forUpdate() : query).executeTakeFirst();
		},
		list() {
			return db.selectFrom("tenants").selectAll().orderBy("created_at").orderBy("id").execute();
		},
		async updateSettings(id, settings) {
			await db.updateTable("tenants").set({ settings }).where("id", "=", id).execute();
		},
	};
}
