import { createAPIKey as newAPIKey, hashAPIKeySecret, parseAPIKey } from "../core/api-key.js";
import { constantTimeEqual } from "../core/constant-time.js";
import { isSystemTenant } from "../core/system-tenant.js";
import { ServiceError } from "../contract/service-error.js";
import type { ServiceDeps } from "./deps.js";
import { appendEvent } from "./events.js";
import { type OperatorActor, tenantContext, type TenantContext } from "./tenant-context.js";
import type { AttemptSnapshot } from "./proofs.js";
import type { APIKeyTable, TenantTable } from "../store/tables.js";

export type APIKeyScope = "default" | "admin";

/** Returns the token once; only its hash is kept. */
export async function createAPIKey(
	deps: ServiceDeps,
	tenantId: string,
	scope: APIKeyScope,
	actor?: OperatorActor,
): Promise<{ id: string; token: string; scope: APIKeyScope }> {
	// Issue 16: the operators' tenant has no API keys; only the CLI manages operators, and the console signs them in.
	if (isSystemTenant(tenantId)) throw new ServiceError("system_tenant");
	const key = newAPIKey(deps.random);
	const now = deps.clock().getTime();
	await deps.store.transaction(async (tx) => {
		await tx.apiKeys.insert({ id: key.id, tenant_id: tenantId, secret_hash: key.secretHash, scope, created_at: now, revoked_at: null, last_used_at: null });
		await appendEvent(tx, deps.random, now, { tenantId, type: "api_key.created", data: { key_id: key.id, scope, ...(actor === undefined ? {} : { actor }) } });
	});
	return { id: key.id, token: key.token, scope };
}

/** Revokes a key; `tenantId`: only a key of that tenant (the console's operators act within a tenant). */
export async function revokeAPIKey(deps: ServiceDeps, keyId: string, within?: { tenantId: string; actor: OperatorActor }): Promise<boolean> {
	return deps.store.transaction(async (tx) => {
		const found = await tx.apiKeys.findActive(keyId);
		if (found === undefined || (within !== undefined && found.tenant.id !== within.tenantId)) return false;
		const now = deps.clock().getTime();
		await tx.apiKeys.revoke(keyId, now);
		await appendEvent(tx, deps.random, now, { tenantId: found.tenant.id, type: "api_key.revoked", data: { key_id: keyId, ...(within === undefined ? {} : { actor: within.actor }) } });
		return true;
	});
}

/**
 * How fresh `keys list` shows a key's last use. Recording it is a write; at most one per key per minute (per node,
 * and the conditional update makes racing nodes write once) keeps authentication a read on nearly every request.
 */
export const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Looks the key up on every request: a revocation takes effect at once, on every node (R-LC-3).
 * Recording the last use is informational: when that write fails (the database's write lock held past
 * busy_timeout, a failover), the request still goes on and `onUseNotRecorded` hears why.
 */
export async function authenticate(deps: ServiceDeps, token: string, onUseNotRecorded?: (error: unknown) => void): Promise<TenantContext | null> {
	const parsed = parseAPIKey(token);
	if (parsed === null) return null;
	return authenticated(deps, parsed.secret, await deps.store.apiKeys.findActive(parsed.id), onUseNotRecorded);
}

/**
 * authenticate for a request that makes an attempt on one user (POST /v1/users/{id}/verify): on PostgreSQL the same
 * read also brings that user's attempt state, within the key's tenant only, so a verify takes two round trips (issue
 * 19, ADR 0009). The state is read only for a key whose secret then checks; a wrong secret learns nothing of it.
 * On SQLite there is no round trip to save: the key alone is read, and no snapshot is returned.
 */
export async function authenticateForAttempt(
	deps: ServiceDeps,
	token: string,
	userId: string,
	onUseNotRecorded?: (error: unknown) => void,
): Promise<{ ctx: TenantContext; snapshot?: AttemptSnapshot } | null> {
	if (deps.store.dialect !== "postgres") {
		const ctx = await authenticate(deps, token, onUseNotRecorded);
		return ctx === null ? null : { ctx };
	}
	const parsed = parseAPIKey(token);
	if (parsed === null) return null;
	const found = await deps.store.apiKeys.findActiveWithAttempt(parsed.id, userId);
	const ctx = await authenticated(deps, parsed.secret, found, onUseNotRecorded);
	return ctx === null ? null : { ctx, snapshot: { userId, state: found!.attempt } };
}

/** The key's secret checked against what was found, and its use recorded (at most once a minute): the tenant, or null. */
async function authenticated(
	deps: ServiceDeps,
	secret: string,
	found: { key: APIKeyTable; tenant: TenantTable } | undefined,
	onUseNotRecorded?: (error: unknown) => void,
): Promise<TenantContext | null> {
	if (found === undefined) return null;
	if (!constantTimeEqual(hashAPIKeySecret(secret), found.key.secret_hash)) return null;
	// Only a key that authenticated is recorded: a wrong secret writes nothing.
	const now = deps.clock().getTime();
	const lastUsed = Math.max(found.key.last_used_at ?? -Infinity, recordedHere.get(found.key.id) ?? -Infinity);
	if (now - lastUsed >= LAST_USED_RESOLUTION_MS) {
		if (recordedHere.size >= MAX_RECORDED_HERE) recordedHere.clear();
		recordedHere.set(found.key.id, now);
		try {
			// In a transaction, so that on SQLite it joins the group commit (one fsync for the batch) like every other write.
			await deps.store.transaction((tx) => tx.apiKeys.recordUse(found.key.id, now, now - LAST_USED_RESOLUTION_MS));
		} catch (error) {
			recordedHere.delete(found.key.id);
			onUseNotRecorded?.(error);
		}
	}
	return tenantContext(found.tenant, found.key);
}

// When this process last recorded each key's use: a burst of requests as the minute turns sends one UPDATE from
// this node, not one per request that read the old time. Key ids are random, so apps sharing a process never collide.
const recordedHere = new Map<string, number>();
const MAX_RECORDED_HERE = 10_000;

/** What `twofold keys list` shows of a key: never its secret or hash. */
export interface PublicAPIKey {
	key_id: string;
	scope: APIKeyScope;
	created_at: string;
	/** Null: not used since last use was first recorded. To the minute (LAST_USED_RESOLUTION_MS). */
	last_used_at: string | null;
	revoked_at: string | null;
}

/** The tenant's keys, oldest first, revoked ones included; undefined when there is no such tenant. */
export async function listAPIKeys(deps: ServiceDeps, tenantId: string): Promise<PublicAPIKey[] | undefined> {
	if ((await deps.store.tenants.find(tenantId)) === undefined) return undefined;
	const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
	// Field by field: the row also holds secret_hash, which must never leave this function.
	return (await deps.store.apiKeys.list(tenantId)).map((row) => ({
		key_id: row.id,
		scope: row.scope,
		created_at: new Date(row.created_at).toISOString(),
		last_used_at: iso(row.last_used_at),
		revoked_at: iso(row.revoked_at),
	}));
}
