import type { Kysely } from "kysely";
import { preparedQuery } from "../prepared-query.js";
import type { APIKeyRepository } from "../store.js";
import type { Database } from "../tables.js";

// Every request authenticates, so this lookup is on the hot path.
const findActive = preparedQuery((db, id: string) =>
	db
		.selectFrom("api_keys")
		.innerJoin("tenants", "tenants.id", "api_keys.tenant_id")
		.select([
			"api_keys.id as key_id",
			"api_keys.tenant_id as key_tenant_id",
			"api_keys.secret_hash",
			"api_keys.scope",
			"api_keys.created_at as key_created_at",
			"api_keys.revoked_at",
			"api_keys.last_used_at",
			"tenants.name",
			"tenants.settings",
			"tenants.created_at as tenant_created_at",
		])
		.where("api_keys.id", "=", id)
		.where("api_keys.revoked_at", "is", null),
);

export function apiKeyRepository(db: Kysely<Database>): APIKeyRepository {
	return {
		async insert(row) {
			await db.insertInto("api_keys").values(row).execute();
		},
		async findActive(id) {
			const row = (await findActive(db, id)).rows[0];
			if (row === undefined) return undefined;
			return {
				key: {
					id: row.key_id,
					tenant_id: row.key_tenant_id,
					secret_hash: row.secret_hash,
					scope: row.scope,
					created_at: row.key_created_at,
					revoked_at: row.revoked_at,
					last_used_at: row.last_used_at,
				},
				tenant: { id: row.key_tenant_id, name: row.name, settings: row.settings, created_at: row.tenant_created_at },
			};
		},
		async revoke(id, now) {
			const result = await db
				.updateTable("api_keys")
				.set({ revoked_at: now })
				.where("id", "=", id)
				.where("revoked_at", "is", null)
				.executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
		async recordUse(id, now, notBefore) {
			const result = await db
				.updateTable("api_keys")
				.set({ last_used_at: now })
				.where("id", "=", id)
				.where((eb) => eb.or([eb("last_used_at", "is", null), eb("last_used_at", "<=", notBefore)]))
				.executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
		list(tenantId) {
			return db.selectFrom("api_keys").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").execute();
		},
	};
}
