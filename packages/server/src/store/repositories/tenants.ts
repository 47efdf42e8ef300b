import type { Kysely } from "kysely";
import type { TenantRepository } from "../store.js";
import type { Database } from "../tables.js";

export function tenantRepository(db: Kysely<Database>): TenantRepository {
	return {
		async insert(row) {
			await db.insertInto("tenants").values(row).execute();
		},
		find(id) {
			return db.selectFrom("tenants").selectAll().where("id", "=", id).executeTakeFirst();
		},
		list() {
			return db.selectFrom("tenants").selectAll().orderBy("created_at").orderBy("id").execute();
		},
		async updateSettings(id, settings) {
			await db.updateTable("tenants").set({ settings }).where("id", "=", id).execute();
		},
	};
}
