import type { Kysely } from "kysely";
import type { LogoRepository } from "../store.js";
import type { Database } from "../tables.js";

export function logoRepository(db: Kysely<Database>): LogoRepository {
	return {
		async put(row) {
			await db
				.insertInto("logos")
				.values(row)
				.onConflict((conflict) =>
					conflict.columns(["tenant_id", "owner"]).doUpdateSet({ content_type: row.content_type, bytes: row.bytes, sha256: row.sha256, updated_at: row.updated_at }),
				)
				.execute();
		},
		async find(tenantId, owner) {
			const row = await db.selectFrom("logos").selectAll().where("tenant_id", "=", tenantId).where("owner", "=", owner).executeTakeFirst();
			// PostgreSQL and better-sqlite3 both answer a Buffer; callers see plain bytes either way.
			return row === undefined ? undefined : { ...row, bytes: new Uint8Array(row.bytes), updated_at: Number(row.updated_at) };
		},
		async exists(tenantId, owner) {
			const row = await db.selectFrom("logos").select("owner").where("tenant_id", "=", tenantId).where("owner", "=", owner).executeTakeFirst();
			return row !== undefined;
		},
		async delete(tenantId, owner) {
			const result = await db.deleteFrom("logos").where("tenant_id", "=", tenantId).where("owner", "=", owner).executeTakeFirst();
			return result.numDeletedRows > 0n;
		},
	};
}
