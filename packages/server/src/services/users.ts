import { isLocked } from "./attempt-budget.js";
import type { ServiceDeps } from "./deps.js";
import { appendEvent } from "./events.js";
import { listFactors, type PublicFactor } from "./factors.js";
import { ServiceError } from "./service-error.js";
import type { TenantContext } from "./tenant-context.js";

export interface PublicUser {
	id: string;
	factors: PublicFactor[];
	recovery_codes_remaining: number;
	locked: boolean;
	created_at: string;
}

export async function getUser(deps: ServiceDeps, ctx: TenantContext, userId: string): Promise<PublicUser> {
	const user = await deps.store.users.find(ctx.tenantId, userId);
	if (user === undefined) throw new ServiceError("user_not_found");
	return {
		id: user.id,
		factors: await listFactors(deps, ctx, userId),
		recovery_codes_remaining: await deps.store.recoveryCodes.countUnused(ctx.tenantId, userId),
		locked: isLocked(user, ctx.settings.attempts),
		created_at: new Date(user.created_at).toISOString(),
	};
}

function requireAdmin(ctx: TenantContext): void {
	if (ctx.scope !== "admin") throw new ServiceError("forbidden");
}

/** The documented unlock path (R-OTP-6): admin only, audited with the key that did it. */
export async function unlockUser(deps: ServiceDeps, ctx: TenantContext, userId: string): Promise<void> {
	requireAdmin(ctx);
	const found = await deps.store.transaction(async (tx) => {
		if (!(await tx.users.unlock(ctx.tenantId, userId))) return false;
		await appendEvent(tx, deps.random, deps.clock().getTime(), {
			tenantId: ctx.tenantId,
			userId,
			type: "user.unlocked",
			data: { actor_key_id: ctx.keyId },
		});
		return true;
	});
	if (!found) throw new ServiceError("user_not_found");
}

/**
 * Erases the user, factors and recovery codes. Admin only: with a default key
 * this would remove 2FA without any proof (V-8). Audit events stay.
 */
export async function deleteUser(deps: ServiceDeps, ctx: TenantContext, userId: string): Promise<void> {
	requireAdmin(ctx);
	const found = await deps.store.transaction(async (tx) => {
		if (!(await tx.users.delete(ctx.tenantId, userId))) return false;
		await appendEvent(tx, deps.random, deps.clock().getTime(), {
			tenantId: ctx.tenantId,
			userId,
			type: "user.deleted",
			data: { actor_key_id: ctx.keyId },
		});
		return true;
	});
	if (!found) throw new ServiceError("user_not_found");
}
