import type { Kysely } from "kysely";
import type { ImportJobRepository } from "../store.js";
import type { Database } from "../tables.js";

/** Bulk import jobs (issue 17): every statement names the tenant, so another tenant's job is not found (V-17). */
export function importJobRepository(db: Kysely<Database>): ImportJobRepository {
	return {
		async insert(row) {
			await db.insertInto("import_jobs").values(row).execute();
		},
		async update(tenantId, id, changes) {
			await db.updateTable("import_jobs").set(changes).where("tenant_id", "=", tenantId).where("id", "=", id).execute();
		},
		find(tenantId, id) {
			return db.selectFrom("import_jobs").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
		},
		async endIfRunning(tenantId, id, changes, staleBefore) {
			let query = db.updateTable("import_jobs").set(changes).where("tenant_id", "=", tenantId).where("id", "=", id).where("status", "=", "running");
			if (staleBefore !== undefined) query = query.where("updated_at", "<", staleBefore);
			return (await query.executeTakeFirst()).numUpdatedRows > 0n;
		},
		list(tenantId, limit) {
			return db.selectFrom("import_jobs").selectAll().where("tenant_id", "=", tenantId).orderBy("started_at", "desc").orderBy("id", "desc").limit(limit).execute();
		},
	};
}
