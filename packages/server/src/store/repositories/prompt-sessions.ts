import type { Kysely } from "kysely";
import type { PromptSessionRepository } from "../store.js";
import type { Database } from "../tables.js";

export function promptSessionRepository(db: Kysely<Database>): PromptSessionRepository {
	return {
		async insert(row) {
			await db.insertInto("prompt_sessions").values(row).execute();
		},
		find(idHash, tenantId, interactionUid, now) {
			return db
				.selectFrom("prompt_sessions")
				.selectAll()
				.where("id_hash", "=", idHash)
				.where("tenant_id", "=", tenantId)
				.where("interaction_uid", "=", interactionUid)
				.where("expires_at", ">", now)
				.executeTakeFirst();
		},
		async update(idHash, tenantId, interactionUid, now, changes) {
			if (Object.keys(changes).length === 0) return true;
			const result = await db
				.updateTable("prompt_sessions")
				.set(changes)
				.where("id_hash", "=", idHash)
				.where("tenant_id", "=", tenantId)
				.where("interaction_uid", "=", interactionUid)
				.where("expires_at", ">", now)
				.executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
		async delete(idHash, tenantId, interactionUid) {
			await db.deleteFrom("prompt_sessions").where("id_hash", "=", idHash).where("tenant_id", "=", tenantId).where("interaction_uid", "=", interactionUid).execute();
		},
		async sweep(now, limit) {
			// Keyed selection first: DELETE … LIMIT is not portable (PostgreSQL has none).
			const expired = await db.selectFrom("prompt_sessions").select(["id_hash", "tenant_id", "interaction_uid"]).where("expires_at", "<=", now).limit(limit).execute();
			let deleted = 0;
			for (const row of expired) {
				const result = await db
					.deleteFrom("prompt_sessions")
					.where("id_hash", "=", row.id_hash)
					.where("tenant_id", "=", row.tenant_id)
					.where("interaction_uid", "=", row.interaction_uid)
					.where("expires_at", "<=", now)
					.executeTakeFirst();
				deleted += Number(result.numDeletedRows);
			}
			return deleted;
		},
	};
}
