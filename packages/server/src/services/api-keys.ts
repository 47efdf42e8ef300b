import { createAPIKey as newAPIKey, hashAPIKeySecret, parseAPIKey } from "../core/api-key.js";
import { constantTimeEqual } from "../core/constant-time.js";
import type { ServiceDeps } from "./deps.js";
import { appendEvent } from "./events.js";
import { tenantContext, type TenantContext } from "./tenant-context.js";

export type APIKeyScope = "default" | "admin";

/** Returns the token once; only its hash is kept. */
export async function createAPIKey(
	deps: ServiceDeps,
	tenantId: string,
	scope: APIKeyScope,
): Promise<{ id: string; token: string; scope: APIKeyScope }> {
	const key = newAPIKey(deps.random);
	const now = deps.clock().getTime();
	await deps.store.transaction(async (tx) => {
		await tx.apiKeys.insert({ id: key.id, tenant_id: tenantId, secret_hash: key.secretHash, scope, created_at: now, revoked_at: null });
		await appendEvent(tx, deps.random, now, { tenantId, type: "api_key.created", data: { key_id: key.id, scope } });
	});
	return { id: key.id, token: key.token, scope };
}

export async function revokeAPIKey(deps: ServiceDeps, keyId: string): Promise<boolean> {
	return deps.store.transaction(async (tx) => {
		const found = await tx.apiKeys.findActive(keyId);
		if (found === undefined) return false;
		const now = deps.clock().getTime();
		await tx.apiKeys.revoke(keyId, now);
		await appendEvent(tx, deps.random, now, { tenantId: found.tenant.id, type: "api_key.revoked", data: { key_id: keyId } });
		return true;
	});
}

/** Looks the key up on every request: a revocation takes effect at once, on every node (R-LC-3). */
export async function authenticate(deps: ServiceDeps, token: string): Promise<TenantContext | null> {
	const parsed = parseAPIKey(token);
	if (parsed === null) return null;
	const found = await deps.store.apiKeys.findActive(parsed.id);
	if (found === undefined) return null;
	if (!constantTimeEqual(hashAPIKeySecret(parsed.secret), found.key.secret_hash)) return null;
	return tenantContext(found.tenant, found.key);
}
