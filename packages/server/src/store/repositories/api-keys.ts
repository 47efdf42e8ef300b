import type { Kysely } from "kysely";
import { preparedQuery } from "../prepared-query.js";
import type { APIKeyRepository } from "../store.js";
import type { APIKeyTable, Database, TenantTable } from "../tables.js";
import { type AttemptRow, attemptState, FACTOR_COLUMNS, USER_ATTEMPT_COLUMNS } from "./users.js";

/** The key and its tenant, as findActive and findActiveWithAttempt read them. */
const KEY_COLUMNS = [
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
] as const;

// Every request authenticates, so this lookup is on the hot path.
const findActive = preparedQuery((db, id: string) =>
	db
		.selectFrom("api_keys")
		.innerJoin("tenants", "tenants.id", "api_keys.tenant_id")
		.select(KEY_COLUMNS)
		.where("api_keys.id", "=", id)
		.where("api_keys.revoked_at", "is", null),
);

/**
 * Issue 19 (ADR 0009): findActive and one user's attempt state in one read, the verify's first round trip on
 * PostgreSQL. The user is joined on the key's own tenant (tenant isolation: a key never reads another tenant's
 * user); one row per live factor, or one with null factor columns, or one with null user columns when the tenant
 * has no row for the id. Nothing is locked: twofold_decide_attempt holds and re-reads the row when it decides.
 */
const findActiveWithAttempt = preparedQuery((db, id: string, userId: string) =>
	db
		.selectFrom("api_keys")
		.innerJoin("tenants", "tenants.id", "api_keys.tenant_id")
		.leftJoin("users", (join) => join.onRef("users.tenant_id", "=", "api_keys.tenant_id").on("users.id", "=", userId))
		.leftJoin("factors", (join) =>
			join
				.onRef("factors.tenant_id", "=", "users.tenant_id")
				.onRef("factors.user_id", "=", "users.id")
				.on("factors.status", "!=", "deleted"),
		)
		.select([
			...KEY_COLUMNS,
			...USER_ATTEMPT_COLUMNS,
			...FACTOR_COLUMNS.map((column) => `factors.${column} as f_${column}` as const),
		])
		.select((eb) =>
			eb
				.selectFrom("recovery_codes")
				.select((inner) => inner.fn.countAll<number | string>().as("count"))
				.whereRef("recovery_codes.tenant_id", "=", "users.tenant_id")
				.whereRef("recovery_codes.user_id", "=", "users.id")
				.where("recovery_codes.used_at", "is", null)
				.as("recovery_codes_remaining"),
		)
		.where("api_keys.id", "=", id)
		.where("api_keys.revoked_at", "is", null)
		.orderBy("factors.created_at")
		.orderBy("factors.id"),
);

type KeyRow = {
	key_id: string;
	key_tenant_id: string;
	secret_hash: string;
	scope: APIKeyTable["scope"];
	key_created_at: number;
	revoked_at: number | null;
	last_used_at: number | null;
	name: string;
	settings: string;
	tenant_created_at: number;
};

function keyAndTenant(row: KeyRow): { key: APIKeyTable; tenant: TenantTable } {
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
}

export function apiKeyRepository(db: Kysely<Database>): APIKeyRepository {
	return {
		async insert(row) {
			await db.insertInto("api_keys").values(row).execute();
		},
		async findActive(id) {
			const row = (await findActive(db, id)).rows[0];
			return row === undefined ? undefined : keyAndTenant(row as KeyRow);
		},
		async findActiveWithAttempt(id, userId) {
			const rows = (await findActiveWithAttempt(db, id, userId)).rows as (KeyRow & AttemptRow)[];
			const [first] = rows;
			if (first === undefined) return undefined;
			return { ...keyAndTenant(first), attempt: first.u_id === null ? null : attemptState(rows)! };
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
