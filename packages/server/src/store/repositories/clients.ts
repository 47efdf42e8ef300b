import type { Kysely } from "kysely";
import type { ClientRepository } from "../store.js";
import type { Database } from "../tables.js";

/** Registered OpenID Connect clients; every query names the tenant, so one tenant never reaches another's client. */
export function clientRepository(db: Kysely<Database>): ClientRepository {
	return {
		async insert(row) {
			await db.insertInto("clients").values(row).execute();
		},
		find(tenantId, id) {
			return db.selectFrom("clients").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
		},
		list(tenantId) {
			return db.selectFrom("clients").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").orderBy("id").execute();
		},
		async update(tenantId, id, changes) {
			if (Object.keys(changes).length === 0) return (await this.find(tenantId, id)) !== undefined;
			const result = await db.updateTable("clients").set(changes).where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
		async delete(tenantId, id) {
			const result = await db.deleteFrom("clients").where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
			return result.numDeletedRows > 0n;
		},
	};
}
