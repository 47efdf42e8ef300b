import type { Static } from "@sinclair/typebox";
import type { Factor } from "../contract/schemas/factors.js";
import { generateId } from "../core/id.js";
import { fieldError, ServiceError } from "../contract/service-error.js";
import type { EnrollEnv, FactorKind } from "../factors/factor-kind.js";
import type { FactorType, ProofInput } from "../factors/proof-kind.js";
import { FACTOR_KINDS } from "../factors/registry.js";
import type { Store } from "../store/store.js";
import type { FactorTable } from "../store/tables.js";
import { requireAdminReason, type ChangeAuthorization } from "./change-authorization.js";
import type { ServiceDeps } from "./deps.js";
import { issueAssertion } from "./assertions.js";
import { actorOf } from "./actor.js";
import { appendEvent } from "./events.js";
import { attemptProof, hasProof, PROOF_EXPECTED, type PreparedProof, prepareClaimed, prepareProof, proofEnv, proofError, verifiedProofOf } from "./proofs.js";
import { generateRecoveryCodeSet, storeRecoveryCodeSet, type RecoveryCodeSet } from "./recovery-codes.js";
import type { TenantContext } from "./tenant-context.js";
import { isFactorLabel, MAX_LABEL_LENGTH } from "../contract/schemas/factors.js";

/**
 * The factor lifecycle, once for every kind (ADR 0007): enroll (binding proof, pending cap, events), confirm,
 * list and remove. What differs by kind (its columns, its enroll answer, its confirming proof, its public facts)
 * comes from the kind's FactorKind in factors/registry.ts.
 */

/** A factor's public view: the contract's Factor (contract/schemas/factors.ts); never its secret (R-LC-7). */
export type PublicFactor = Static<typeof Factor>;

const iso = (time: number | null): string | null => (time === null ? null : new Date(time).toISOString());

/** Metadata only: after enrollment no response carries the secret or URI again (R-LC-7). */
export function publicFactor(row: FactorTable, facts?: Record<string, unknown>): PublicFactor {
	return {
		// The kind's own facts go under its type's name ("webauthn": the authenticator model).
		...(facts === undefined ? {} : { [row.type]: facts }),
		id: row.id,
		type: row.type,
		status: row.status === "active" ? "active" : "pending",
		label: row.label,
		created_at: new Date(row.created_at).toISOString(),
		activated_at: iso(row.activated_at),
		last_used_at: iso(row.last_used_at),
		weak_secret: Number(row.weak_secret ?? 0) === 1,
		needs_resync: Number(row.needs_resync ?? 0) === 1,
	};
}

const kindOf = (type: FactorType): FactorKind<never, unknown> => FACTOR_KINDS[type] as FactorKind<never, unknown>;

/** Starts a pending factor of the given type. The user record is created on first enrollment. */
export async function enrollFactor<Input extends ProofInput & { label?: string }, Enrolled>(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	kind: FactorKind<Input, Enrolled>,
	input: Input,
): Promise<{ factor: PublicFactor } & Enrolled> {
	kind.available?.(proofEnv(deps, ctx, userId));
	const binding = await prepareBinding(deps, ctx, userId, input);
	const now = deps.clock().getTime();
	const env: EnrollEnv = { ...proofEnv(deps, ctx, userId), now, factorId: generateId("fac", deps.random) };
	const enrollment = await kind.enroll(env, input);
	const row: FactorTable = {
		...enrollment.columns,
		id: env.factorId,
		tenant_id: ctx.tenantId,
		user_id: userId,
		type: kind.type,
		status: "pending",
		created_at: now,
		activated_at: null,
		last_used_at: null,
		deleted_at: null,
	};
	await insertPendingFactor(deps, ctx, userId, binding, row, enrollment.inTransaction);
	return { factor: publicFactor(row), ...enrollment.answer };
}

/**
 * R-LC-1: while the user has an active factor, a new one is bound only with a
 * proof from an existing one (a current code, a recovery code or a WebAuthn
 * assertion), checked through the shared attempt path. There is no admin
 * bypass here: an admin removes factors (with a reason), then the user enrolls.
 */
async function prepareBinding(deps: ServiceDeps, ctx: TenantContext, userId: string, input: ProofInput): Promise<PreparedProof | undefined> {
	const factors = await deps.store.factors.listForUser(ctx.tenantId, userId);
	if (!factors.some((factor) => factor.status === "active")) return undefined;
	if (!hasProof(input)) throw fieldError("proof_required", "/code", PROOF_EXPECTED);
	return prepareProof(deps, ctx, userId, input);
}

/**
 * Pending factors a user may have at once (issue 12): enroll needs no proof before 2FA is on, so without a cap
 * one caller could pile up rows that every listing and every verify of the user load. A sixth is refused
 * (too_many_pending_factors), not made to push out the oldest: that would let anyone who can enroll discard
 * the factor the user is confirming. Expired ones are discarded first and do not count.
 */
export const MAX_PENDING_FACTORS = 5;

const isLivePending = (factor: FactorTable, now: number): boolean => factor.status === "pending" && (factor.expires_at ?? 0) > now;

/** Removes pending factors that can no longer be confirmed, each with a factor.deleted event (by "system"). */
async function discardPending(
	tx: Store,
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	factors: FactorTable[],
	reason: "expired" | "superseded",
	now: number,
): Promise<void> {
	const removed = await tx.factors.discardPending(
		ctx.tenantId,
		userId,
		factors.map((factor) => factor.id),
	);
	for (const factorId of removed) {
		await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, userId, factorId, type: "factor.deleted", data: { by: "system", was: "pending", reason } });
	}
}

/**
 * Locks the user's row (FOR UPDATE on PostgreSQL; SQLite has one writer) and then reads the factors in a
 * statement of its own, so it sees every factor committed before the lock was granted: enroll and a first
 * activation serialize on it, and each sees what the other did (R-LC-1).
 */
async function lockedFactors(tx: Store, ctx: TenantContext, userId: string): Promise<FactorTable[]> {
	await tx.users.lockForAttempt(ctx.tenantId, userId);
	return tx.factors.listForUser(ctx.tenantId, userId);
}

/** Inserts the pending factor (and the user on first enrollment), after the binding proof if one is needed. */
async function insertPendingFactor(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	binding: PreparedProof | undefined,
	row: FactorTable,
	alsoInTransaction?: (tx: Store) => Promise<void>,
): Promise<void> {
	const outcome = await deps.store.transaction(async (tx) => {
		const now = row.created_at;
		await tx.users.ensure(ctx.tenantId, userId, now);
		const factors = await lockedFactors(tx, ctx, userId);
		await discardPending(tx, deps, ctx, userId, factors.filter((factor) => factor.status === "pending" && !isLivePending(factor, now)), "expired", now);
		// Checked before the proof, so a refused enroll spends no code.
		if (factors.filter((factor) => isLivePending(factor, now)).length >= MAX_PENDING_FACTORS) return { ok: false as const, reason: "too_many_pending" as const };
		if (binding !== undefined) {
			// The proof must be as strong as the weaker of the user's strongest factor and the new one (R-LC-1).
			const proof = await attemptProof(tx, deps, ctx, userId, binding, { purpose: "add_factor", change: { adding: row.type } });
			if (!proof.ok) return proof;
		} else if (factors.some((factor) => factor.status === "active")) {
			// A first factor was activated since the check outside: the proof is needed after all.
			return { ok: false as const, reason: "proof_required" as const };
		}
		await tx.factors.insert(row);
		await alsoInTransaction?.(tx);
		await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, userId, factorId: row.id, type: "factor.created", data: { type: row.type } });
		return { ok: true as const };
	});
	if (!outcome.ok) {
		if (outcome.reason === "too_many_pending") throw new ServiceError("too_many_pending_factors");
		throw outcome.reason === "proof_required" ? fieldError("proof_required", "/code", PROOF_EXPECTED) : proofError(outcome);
	}
}

async function findLiveFactor(deps: ServiceDeps, ctx: TenantContext, userId: string, factorId: string): Promise<FactorTable> {
	const factor = await deps.store.factors.find(ctx.tenantId, userId, factorId);
	// Another tenant's or user's factor is indistinguishable from a missing one (V-17).
	if (factor === undefined || factor.status === "deleted") throw new ServiceError("factor_not_found");
	return factor;
}

/**
 * Activates a pending factor with the proof its kind confirms with (FactorKind.confirmation): a TOTP or HOTP
 * factor with a current code from it (the code's step or counter is consumed, so it cannot double as the next
 * login's code, V-1), a WebAuthn factor with the registration response to its challenge. The user's first
 * active factor comes with a set of recovery codes.
 */
export async function confirmFactor(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	factorId: string,
	input: { code?: unknown; credential?: unknown },
): Promise<{ factor: PublicFactor; recovery_codes?: string[]; assertion: string }> {
	const factor = await findLiveFactor(deps, ctx, userId, factorId);
	if (factor.status !== "pending") throw new ServiceError("factor_not_pending");
	if ((factor.expires_at ?? 0) <= deps.clock().getTime()) throw new ServiceError("factor_expired");

	// Generated outside the transaction (scrypt is slow) when the user looks code-less now; the transaction decides.
	const needsCodes =
		!(await deps.store.factors.listForUser(ctx.tenantId, userId)).some((f) => f.status === "active") &&
		(await deps.store.recoveryCodes.countUnused(ctx.tenantId, userId)) === 0;
	const set: RecoveryCodeSet | null = needsCodes ? await generateRecoveryCodeSet(deps) : null;
	// The kind's confirming proof goes through the attempt budget like any proof, a WebAuthn registration
	// response included (issue 12 finding 7).
	const kind = kindOf(factor.type);
	const prepared: PreparedProof =
		kind.confirmation === "code"
			? await prepareProof(deps, ctx, userId, { code: input.code })
			: await prepareClaimed(deps, ctx, userId, await kind.confirmation(proofEnv(deps, ctx, userId), factor, input));

	const outcome = await deps.store.transaction(async (tx) => {
		const now = deps.clock().getTime();
		const factors = await lockedFactors(tx, ctx, userId);
		const current = factors.find((f) => f.id === factorId);
		// Discarded since the read outside (expired, or voided by a first activation): gone, not a wrong code.
		if (current === undefined || current.status === "deleted") return { error: new ServiceError("factor_not_found") };
		const otherActive = factors.filter((f) => f.status === "active" && f.id !== factorId);
		// R-LC-1 at confirm as at enroll: a factor enrolled before another one was activated was enrolled with
		// no proof from it, so it may not be confirmed beside it. Voided now, whatever the code says.
		if (otherActive.some((f) => (f.activated_at ?? 0) > factor.created_at)) {
			await discardPending(tx, deps, ctx, userId, [factor], "superseded", now);
			return { error: new ServiceError("factor_expired") };
		}
		// The factors are read under the lock already: only the recovery-code count is left to check.
		const issueCodes = set !== null && otherActive.length === 0 && (await tx.recoveryCodes.countUnused(ctx.tenantId, userId)) === 0;
		const proof = await attemptProof(tx, deps, ctx, userId, prepared, { purpose: "confirm", pendingFactorId: factorId });
		if (!proof.ok) return { error: proofError(proof) };
		if (issueCodes) await storeRecoveryCodeSet(tx, ctx, userId, set, now);
		// The user's first factor: every other pending factor was enrolled without a proof, by whoever could
		// call enroll then, and is void (R-LC-1); a later one needs a proof from this factor.
		if (otherActive.length === 0) {
			const others = factors.filter((f) => f.status === "pending" && f.id !== factorId);
			await discardPending(tx, deps, ctx, userId, others, "superseded", now);
		}
		await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, userId, factorId, type: "factor.activated", data: { type: factor.type } });
		const activated = await tx.factors.find(ctx.tenantId, userId, factorId);
		return { factor: activated!, codes: issueCodes ? set.codes : undefined, proven: verifiedProofOf(proof) };
	});
	// Thrown only now, after the failed attempt (or the consumed challenge) has committed (R-ST-6).
	if ("error" in outcome) throw outcome.error;
	// The new factor just proved itself: the confirm answers with an assertion, as a verify does (issue 4).
	// A WebAuthn confirm proves with the key facts its registration established (factors/webauthn/registration.ts).
	const assertion = await issueAssertion(deps, ctx, userId, outcome.proven, { actionHash: undefined, firstFactorPassed: false });
	const facts = await kind.facts?.(deps.store, ctx.tenantId, userId);
	const result: { factor: PublicFactor; recovery_codes?: string[]; assertion: string } = { factor: publicFactor(outcome.factor, facts?.get(factorId)), assertion };
	if (outcome.codes !== undefined) result.recovery_codes = outcome.codes;
	return result;
}

export async function listFactors(deps: ServiceDeps, ctx: TenantContext, userId: string): Promise<PublicFactor[]> {
	const rows = await deps.store.factors.listForUser(ctx.tenantId, userId);
	const now = deps.clock().getTime();
	// An expired pending factor can never be confirmed: it is not listed (the next enroll discards it).
	const listed = rows.filter((row) => row.status === "active" || isLivePending(row, now));
	// Each kind with facts of its own reads them once for the user (WebAuthn: the authenticator models).
	const types = [...new Set(listed.map((row) => row.type))];
	const facts = new Map(await Promise.all(types.map(async (type) => [type, await kindOf(type).facts?.(deps.store, ctx.tenantId, userId)] as const)));
	return listed.map((row) => publicFactor(row, facts.get(row.type)?.get(row.id)));
}

/**
 * Removes a factor (R-LC-4): with a current code from any active factor or a
 * recovery code, or by an admin with a reason. A pending factor grants nothing
 * and may be discarded without a proof. Removing the last active factor also
 * voids the recovery codes, which only make sense beside a factor.
 */
export async function deleteFactor(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	factorId: string,
	authorization: ChangeAuthorization,
): Promise<void> {
	const factor = await findLiveFactor(deps, ctx, userId, factorId);
	const needsProof = factor.status === "active";
	const useProof = needsProof && hasProof(authorization);
	// A console operator (issue 16) always acts with a reason, even on a pending factor, so the audit says who did it.
	const reason = needsProof && !useProof ? requireAdminReason(ctx, authorization) : ctx.actor !== undefined ? requireAdminReason(ctx, authorization) : undefined;
	const prepared = useProof ? await prepareProof(deps, ctx, userId, authorization) : undefined;

	const outcome = await deps.store.transaction(async (tx) => {
		if (prepared !== undefined) {
			// At least as strong as the strongest factor that stays (R-LC-4).
			const proof = await attemptProof(tx, deps, ctx, userId, prepared, { purpose: "delete_factor", change: { removing: factorId } });
			if (!proof.ok) return proof;
		}
		const now = deps.clock().getTime();
		if (!(await tx.factors.markDeleted(ctx.tenantId, userId, factorId, now))) return { ok: false as const, reason: "gone" as const };
		const remaining = (await tx.factors.listForUser(ctx.tenantId, userId)).filter((f) => f.status === "active");
		if (remaining.length === 0) await tx.recoveryCodes.deleteForUser(ctx.tenantId, userId);
		const by = reason === undefined ? "user" : "admin";
		await appendEvent(tx, deps.random, now, {
			tenantId: ctx.tenantId,
			userId,
			factorId,
			type: "factor.deleted",
			data: reason === undefined ? { by, was: factor.status } : { by, ...actorOf(ctx), reason, was: factor.status },
		});
		// The user's account has no second factor any more: something to tell them about (issue 5).
		if (factor.status === "active" && remaining.length === 0) {
			await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, userId, type: "user.security_notice", data: { reason: "last_factor_removed", by } });
		}
		return { ok: true as const };
	});
	if (!outcome.ok) throw outcome.reason === "gone" ? new ServiceError("factor_not_found") : proofError(outcome);
}

/**
 * PATCH /v1/users/{id}/factors/{factor_id} {label}: a new name for a pending or active factor, under the rules of a
 * label at enrollment (1–128 characters, no ':' or control character; the request schema checks them, and so does
 * this function for callers that are not HTTP, such as the prompt's manage page). A label is a name the user reads,
 * it grants nothing, so no proof is asked. Another tenant's or user's factor is factor_not_found (V-17). The event
 * factor.renamed carries the type only: a label may hold an address or a name, kept out of the audit log and webhooks.
 * An authenticator app keeps the name it was given by the otpauth:// URI; this changes Twofold's name only.
 */
export async function renameFactor(deps: ServiceDeps, ctx: TenantContext, userId: string, factorId: string, label: string): Promise<{ factor: PublicFactor }> {
	if (!isFactorLabel(label)) throw fieldError("invalid_request", "/label", `must be 1-${MAX_LABEL_LENGTH} characters without ':' or control characters`);
	const factor = await findLiveFactor(deps, ctx, userId, factorId);
	const renamed = await deps.store.transaction(async (tx) => {
		if (!(await tx.factors.rename(ctx.tenantId, userId, factorId, label))) return undefined;
		await appendEvent(tx, deps.random, deps.clock().getTime(), { tenantId: ctx.tenantId, userId, factorId, type: "factor.renamed", data: { type: factor.type } });
		return tx.factors.find(ctx.tenantId, userId, factorId);
	});
	if (renamed === undefined) throw new ServiceError("factor_not_found");
	const facts = await kindOf(renamed.type).facts?.(deps.store, ctx.tenantId, userId);
	return { factor: publicFactor(renamed, facts?.get(factorId)) };
}

/**
 * POST /v1/users/{id}/factors/{factor_id}/resync (RFC 4226 §7.4), for a kind that has a resync proof (HOTP): a token
 * whose counter ran more than its look-ahead ahead is brought back with two consecutive codes. A proof like a verify:
 * through the attempt path (one budget per user, R-OTP-6; refused unevaluated when locked or throttled; a failure is
 * counted, committed and only then answered), and the codes are spent (R-OTP-1).
 *
 * It answers the factor and no assertion: a resync repairs a counter, it is not a sign-in. A verify stays the one
 * way to an assertion, with its action binding, audience and first-factor flag.
 */
export async function resyncFactor(deps: ServiceDeps, ctx: TenantContext, userId: string, factorId: string, input: { codes?: unknown }): Promise<{ factor: PublicFactor }> {
	const factor = await findLiveFactor(deps, ctx, userId, factorId);
	const proof = kindOf(factor.type).resync;
	// A factor's type and status are in its public view, so refusing here, uncounted, reveals nothing.
	if (proof === undefined || factor.status !== "active") throw new ServiceError("resync_not_supported");
	const presented = proof.claim({ codes: input.codes });
	const prepared = await prepareClaimed(deps, ctx, userId, presented === undefined || presented === "malformed" ? "malformed" : [{ kind: proof, presented }]);
	const outcome = await deps.store.transaction(async (tx) => {
		const attempt = await attemptProof(tx, deps, ctx, userId, prepared, { purpose: "resync", factorId });
		if (!attempt.ok) return { error: proofError(attempt) };
		const now = deps.clock().getTime();
		await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, userId, factorId, type: "factor.resynchronized", data: { type: factor.type } });
		return { factor: (await tx.factors.find(ctx.tenantId, userId, factorId))! };
	});
	// Thrown only now, after the failed attempt has committed (R-ST-6).
	if ("error" in outcome) throw outcome.error;
	return { factor: publicFactor(outcome.factor) };
}
