import { generateId } from "../core/id.js";
import { generateRecoveryCode, hashRecoveryCode, RECOVERY_CODE_COUNT } from "../core/recovery-codes.js";
import type { Store } from "../store/store.js";
import type { RecoveryCodeTable } from "../store/tables.js";
import type { ServiceDeps } from "./deps.js";
import { isAttemptRecord } from "./attempt-budget.js";
import { appendEvent } from "./events.js";
import { attemptProof, hasProof, prepareProof, proofError } from "./proofs.js";
import { requireAdminReason, type ChangeAuthorization } from "./change-authorization.js";
import { ServiceError } from "../contract/service-error.js";
import type { TenantContext } from "./tenant-context.js";

export interface RecoveryCodeSet {
	/** Shown to the user once, never stored (R-RC-2). */
	codes: string[];
	hashed: Omit<RecoveryCodeTable, "tenant_id" | "user_id" | "created_at" | "used_at">[];
}

/** Generated and hashed before any transaction: hashing is the slow part. */
export async function generateRecoveryCodeSet(deps: ServiceDeps): Promise<RecoveryCodeSet> {
	const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => generateRecoveryCode(deps.random));
	const hashed = await Promise.all(
		codes.map(async (code) => ({ id: generateId("rc", deps.random), ...(await hashRecoveryCode(code, deps.random)) })),
	);
	return { codes, hashed };
}

/** Replaces every earlier code in the same transaction (R-RC-5: old codes stop working with the commit). */
export async function storeRecoveryCodeSet(tx: Store, ctx: TenantContext, userId: string, set: RecoveryCodeSet, now: number): Promise<void> {
	await tx.recoveryCodes.deleteForUser(ctx.tenantId, userId);
	await tx.recoveryCodes.insertMany(
		set.hashed.map((row) => ({ ...row, tenant_id: ctx.tenantId, user_id: userId, created_at: now, used_at: null })),
	);
}

/**
 * POST /v1/users/{id}/recovery-codes. Needs a proof at least as strong as the
 * user's strongest factor (R-RC-5, core/proof-strength.ts), through the shared
 * attempt budget, or an admin key with a reason.
 */
export async function regenerateRecoveryCodes(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	authorization: ChangeAuthorization,
): Promise<string[]> {
	const user = await deps.store.users.find(ctx.tenantId, userId);
	if (user === undefined || isAttemptRecord(user)) throw new ServiceError("user_not_found");
	const factors = await deps.store.factors.listForUser(ctx.tenantId, userId);
	if (!factors.some((factor) => factor.status === "active")) throw new ServiceError("no_active_factor");

	const set = await generateRecoveryCodeSet(deps);
	const reason = hasProof(authorization) ? undefined : requireAdminReason(ctx, authorization);
	const prepared = hasProof(authorization) ? await prepareProof(deps, ctx, userId, authorization) : undefined;
	const outcome = await deps.store.transaction(async (tx) => {
		const now = deps.clock().getTime();
		if (prepared !== undefined) {
			const proof = await attemptProof(tx, deps, ctx, userId, prepared, { purpose: "regenerate_recovery_codes", change: { keeping: "all" } });
			if (!proof.ok) return proof;
		}
		await storeRecoveryCodeSet(tx, ctx, userId, set, now);
		await appendEvent(tx, deps.random, now, {
			tenantId: ctx.tenantId,
			userId,
			type: "recovery_codes.regenerated",
			data: reason === undefined ? { by: "user", count: set.codes.length } : { by: "admin", actor_key_id: ctx.keyId, reason, count: set.codes.length },
		});
		await appendEvent(tx, deps.random, now, {
			tenantId: ctx.tenantId,
			userId,
			type: "user.security_notice",
			data: { reason: "recovery_codes_regenerated", by: reason === undefined ? "user" : "admin" },
		});
		return { ok: true as const };
	});
	if (!outcome.ok) throw proofError(outcome);
	return set.codes;
}
