import type { Kysely } from "kysely";
import type { ChallengeRepository } from "../store.js";
import type { Database } from "../tables.js";

export function challengeRepository(db: Kysely<Database>): ChallengeRepository {
	return {
		async insert(row) {
			await db.insertInto("challenges").values(row).execute();
		},
		find(tenantId, userId, id) {
			return db
				.selectFrom("challenges")
				.selectAll()
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("id", "=", id)
				.executeTakeFirst();
		},
		findRegistration(tenantId, userId, factorId) {
			return db
				.selectFrom("challenges")
				.selectAll()
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("ceremony", "=", "registration")
				.where("factor_id", "=", factorId)
				.executeTakeFirst();
		},
		async consume(tenantId, userId, id, ceremony, now) {
			const result = await db
				.updateTable("challenges")
				.set({ consumed_at: now })
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("id", "=", id)
				.where("ceremony", "=", ceremony)
				.where("consumed_at", "is", null)
				.where("expires_at", ">", now)
				.executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
		async revokeOpen(tenantId, userId, ceremony, now) {
			let update = db
				.updateTable("challenges")
				.set({ consumed_at: now })
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("consumed_at", "is", null)
				.where("expires_at", ">", now);
			if (ceremony !== null) update = update.where("ceremony", "=", ceremony);
			const result = await update.executeTakeFirst();
			return Number(result.numUpdatedRows);
		},
		async countSince(tenantId, userId, ceremony, since) {
			let select = db
				.selectFrom("challenges")
				.select((eb) => eb.fn.countAll<number>().as("count"))
				.where("tenant_id", "=", tenantId)
				.where("ceremony", "=", ceremony)
				.where("created_at", ">", since);
			if (userId !== null) select = select.where("user_id", "=", userId);
			const row = await select.executeTakeFirstOrThrow();
			return Number(row.count);
		},
		async revokeAllOpen(now) {
			const result = await db.updateTable("challenges").set({ consumed_at: now }).where("consumed_at", "is", null).executeTakeFirst();
			return Number(result.numUpdatedRows);
		},
		async deleteStale(tenantId, userId, now) {
			await db
				.deleteFrom("challenges")
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("expires_at", "<=", now)
				.execute();
		},
	};
}
