import type { Kysely } from "kysely";
import type { OIDCPayloadRepository } from "../store.js";
import type { Database } from "../tables.js";

/** oidc-provider's artefacts (oidc/adapter.ts). Expired rows are never returned, whether or not housekeeping ran yet. */
export function oidcPayloadRepository(db: Kysely<Database>): OIDCPayloadRepository {
	return {
		async upsert(row) {
			await db
				.insertInto("oidc_payloads")
				.values(row)
				.onConflict((conflict) =>
					conflict.columns(["tenant_id", "model", "id_hash"]).doUpdateSet({
						grant_id: row.grant_id,
						uid_hash: row.uid_hash,
						payload: row.payload,
						expires_at: row.expires_at,
						consumed_at: row.consumed_at,
					}),
				)
				.execute();
		},
		find(tenantId, model, idHash, now) {
			return db
				.selectFrom("oidc_payloads")
				.selectAll()
				.where("tenant_id", "=", tenantId)
				.where("model", "=", model)
				.where("id_hash", "=", idHash)
				.where("expires_at", ">", now)
				.executeTakeFirst();
		},
		findByUid(tenantId, model, uidHash, now) {
			return db
				.selectFrom("oidc_payloads")
				.selectAll()
				.where("tenant_id", "=", tenantId)
				.where("model", "=", model)
				.where("uid_hash", "=", uidHash)
				.where("expires_at", ">", now)
				.executeTakeFirst();
		},
		async consume(tenantId, model, idHash, now) {
			// One conditional statement: of two token requests racing with the same code, one updates a row.
			const result = await db
				.updateTable("oidc_payloads")
				.set({ consumed_at: now })
				.where("tenant_id", "=", tenantId)
				.where("model", "=", model)
				.where("id_hash", "=", idHash)
				.where("consumed_at", "is", null)
				.executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
		async destroy(tenantId, model, idHash) {
			await db.deleteFrom("oidc_payloads").where("tenant_id", "=", tenantId).where("model", "=", model).where("id_hash", "=", idHash).execute();
		},
		async revokeByGrantId(tenantId, models, grantId) {
			if (models.length === 0) return;
			await db.deleteFrom("oidc_payloads").where("tenant_id", "=", tenantId).where("grant_id", "=", grantId).where("model", "in", [...models]).execute();
		},
		async deleteExpired(now, limit) {
			const rows = await db.selectFrom("oidc_payloads").select(["tenant_id", "model", "id_hash"]).where("expires_at", "<=", now).limit(limit).execute();
			for (const row of rows) {
				await db.deleteFrom("oidc_payloads").where("tenant_id", "=", row.tenant_id).where("model", "=", row.model).where("id_hash", "=", row.id_hash).execute();
			}
			return rows.length;
		},
	};
}
