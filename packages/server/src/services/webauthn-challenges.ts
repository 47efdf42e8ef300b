import { ServiceError } from "../contract/service-error.js";
import { authenticationOptions } from "../factors/webauthn/ceremony.js";
import { credentialHints, newChallenge } from "../factors/webauthn/challenge.js";
import { requireRelyingParty } from "../factors/webauthn/factor.js";
import { isLocked } from "./attempt-budget.js";
import type { ServiceDeps } from "./deps.js";
import type { TenantContext } from "./tenant-context.js";

/** POST /v1/users/{id}/challenges {"type": "webauthn"}: request options listing the user's active credentials. */
export async function createWebAuthnChallenge(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
): Promise<{ challenge: { id: string; expires_at: string }; webauthn: { options: unknown } }> {
	const rp = requireRelyingParty(ctx);
	const factors = await deps.store.factors.listForUser(ctx.tenantId, userId);
	const active = new Set(factors.filter((f) => f.type === "webauthn" && f.status === "active").map((f) => f.id));
	const credentials = (await deps.store.webauthnCredentials.listForUser(ctx.tenantId, userId)).filter((c) => active.has(c.factor_id));
	if (credentials.length === 0) throw new ServiceError("no_webauthn_factor");
	const now = deps.clock().getTime();
	const { bytes, row } = newChallenge(deps.random, { tenantId: ctx.tenantId, userId }, now, { ceremony: "authentication", factor_id: null, user_handle: null });
	const options = await authenticationOptions(rp, { challenge: bytes, allow: credentialHints(credentials) });
	await deps.store.transaction(async (tx) => {
		// A locked user gets the locked error and no challenge, as for an email code (R-EM-5, R-OTP-6).
		const user = await tx.users.find(ctx.tenantId, userId);
		if (user !== undefined && isLocked(user)) throw new ServiceError("locked");
		await tx.challenges.deleteStale(ctx.tenantId, userId, now);
		await tx.challenges.insert(row);
	});
	return { challenge: { id: row.id, expires_at: new Date(row.expires_at).toISOString() }, webauthn: { options } };
}
