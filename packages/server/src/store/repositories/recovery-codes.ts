import type { Kysely } from "kysely";
import type { RecoveryCodeRepository } from "../store.js";
import type { Database } from "../tables.js";

export function recoveryCodeRepository(db: Kysely<Database>): RecoveryCodeRepository {
	return {
		async insertMany(rows) {
			if (rows.length > 0) await db.insertInto("recovery_codes").values(rows).execute();
		},
		listUnused(tenantId, userId) {
			return db
				.selectFrom("recovery_codes")
				.selectAll()
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("used_at", "is", null)
				.orderBy("id")
				.execute();
		},
		async countUnused(tenantId, userId) {
			const row = await db
				.selectFrom("recovery_codes")
				.select((eb) => eb.fn.countAll<number | string>().as("count"))
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("used_at", "is", null)
				.executeTakeFirstOrThrow();
			return Number(row.count);
		},
		async consume(tenantId, userId, id, now) {
			const result = await db
				.updateTable("recovery_codes")
				.set({ used_at: now })
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("id", "=", id)
				.where("used_at", "is", null)
				.executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
		async revokeAllUnused(now) {
			const users = await db.selectFrom("recovery_codes").select(["tenant_id", "user_id"]).distinct().where("used_at", "is", null).orderBy("tenant_id").orderBy("user_id").execute();
			await db.updateTable("recovery_codes").set({ used_at: now }).where("used_at", "is", null).execute();
			return users;
		},
		async deleteForUser(tenantId, userId) {
			await db.deleteFrom("recovery_codes").where("tenant_id", "=", tenantId).where("user_id", "=", userId).execute();
		},
	};
}
