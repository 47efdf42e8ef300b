import { type Kysely, sql } from "kysely";
import { SYSTEM_TENANT_ID } from "../../core/system-tenant.js";
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
			// The applications' tenants: the system tenant (the console's operators, issue 16) is found by id only.
			return db.selectFrom("tenants").selectAll().where("id", "<>", SYSTEM_TENANT_ID).orderBy("created_at").orderBy("id").execute();
		},
		async updateSettings(id, settings) {
			await db.updateTable("tenants").set({ settings }).where("id", "=", id).execute();
		},
	};
}
