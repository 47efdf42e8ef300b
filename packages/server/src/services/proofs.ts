import { findMatchingRecoveryCodes, normalizeRecoveryCode } from "../core/recovery-codes.js";
import { verifyTOTP } from "../core/totp.js";
import type { Store } from "../store/store.js";
import type { FactorTable } from "../store/tables.js";
import { attemptBlock, throttleDelayInSeconds } from "./attempt-budget.js";
import type { ServiceDeps } from "./deps.js";
import { appendEvent } from "./events.js";
import { openFactorSecret } from "./factor-secret.js";
import { ServiceError } from "./service-error.js";
import type { TenantContext } from "./tenant-context.js";

/**
 * A proof is a code presented for a user: to verify, to confirm a new factor,
 * or to authorize a factor change. All of them go through attemptProof, so
 * they share one attempt budget, one replay rule and one set of events.
 */
export type Purpose = "verify" | "confirm" | "delete_factor" | "regenerate_recovery_codes";

/**
 * R-OTP-11 / V-2: a TOTP code is exactly 6-8 ASCII digits in a JSON string;
 * no trimming, no Unicode digits, no numbers. A recovery code is its one
 * documented format (hyphens and case forgiven). Anything else is malformed,
 * and a malformed code is a failed attempt like any other.
 */
export type CodeShape = { kind: "otp"; code: string } | { kind: "recovery"; normalized: string } | { kind: "malformed" };

export function classifyCode(code: unknown): CodeShape {
	if (typeof code !== "string") return { kind: "malformed" };
	if (/^[0-9]{6,8}$/.test(code)) return { kind: "otp", code };
	const normalized = normalizeRecoveryCode(code);
	return normalized === null ? { kind: "malformed" } : { kind: "recovery", normalized };
}

export interface PreparedProof {
	shape: CodeShape;
	/** Ids of unused recovery codes whose hash matched, computed before the transaction (scrypt is slow). */
	recoveryMatchIds: string[];
}

/**
 * Work done outside the transaction. Recovery-code hashing takes milliseconds;
 * doing it here keeps the write transaction short. A user who may not attempt
 * now is not evaluated at all.
 */
export async function prepareProof(deps: ServiceDeps, ctx: TenantContext, userId: string, code: unknown): Promise<PreparedProof> {
	const shape = classifyCode(code);
	if (shape.kind !== "recovery") return { shape, recoveryMatchIds: [] };
	const user = await deps.store.users.find(ctx.tenantId, userId);
	if (user === undefined || attemptBlock(user, deps.clock().getTime(), ctx.settings.attempts) !== null) {
		return { shape, recoveryMatchIds: [] };
	}
	const stored = await deps.store.recoveryCodes.listUnused(ctx.tenantId, userId);
	const matches = await findMatchingRecoveryCodes(shape.normalized, stored);
	return { shape, recoveryMatchIds: matches.map((index) => stored[index]!.id) };
}

export type ProofOutcome =
	| { ok: true; method: "totp"; factor: FactorTable; recoveryCodesRemaining: number }
	| { ok: true; method: "recovery_code"; recoveryCodesRemaining: number }
	| { ok: false; reason: "unknown_user" | "locked" }
	| { ok: false; reason: "throttled"; retryAfterSeconds: number }
	| { ok: false; reason: "invalid" | "malformed" }
	| { ok: false; reason: "replay"; factorId: string | null };

export interface ProofTarget {
	purpose: Purpose;
	/** confirm: only this pending factor may match, and matching activates it. */
	pendingFactorId?: string;
	/** verify: only this active factor's TOTP is checked. */
	factorId?: string;
}

/**
 * Runs inside the caller's transaction, holding the user's row from the
 * budget check to the write of the new count, so the decision and the counter
 * commit together (D-3), concurrent attempts cannot both pass the check, and a
 * rollback leaves no half state. Failures are returned, not thrown: the caller
 * must commit them and only then answer with an error (R-ST-6).
 */
export async function attemptProof(
	tx: Store,
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	prepared: PreparedProof,
	target: ProofTarget,
): Promise<ProofOutcome> {
	const now = deps.clock().getTime();
	const { attempts } = ctx.settings;
	const state = await tx.users.lockForAttempt(ctx.tenantId, userId);
	if (state === undefined) return { ok: false, reason: "unknown_user" };
	const { user } = state;
	const block = attemptBlock(user, now, attempts);
	// Locked or throttled: refused without evaluating the code, and not counted.
	if (block !== null) return block.reason === "locked" ? { ok: false, reason: "locked" } : { ok: false, ...block };

	const outcome = await evaluate(tx, deps, ctx, userId, state.factors, prepared, target, now);
	const event = { tenantId: ctx.tenantId, userId };
	if (outcome.ok) {
		if (user.failed_attempts > 0) await tx.users.clearFailures(ctx.tenantId, userId);
		const used = outcome.method === "recovery_code" ? 1 : 0;
		return { ...outcome, recoveryCodesRemaining: state.recoveryCodesRemaining - used };
	}

	const failures = user.failed_attempts + 1;
	const lockedNow = failures >= attempts.lock_after;
	const delay = throttleDelayInSeconds(failures, attempts);
	await tx.users.recordFailure(ctx.tenantId, userId, failures, delay > 0 ? now + delay * 1000 : 0, lockedNow ? now : null);
	if (outcome.reason === "replay") {
		// R-OTP-9: the caller sees the same answer as a wrong code; the audit trail tells the truth.
		await appendEvent(tx, deps.random, now, {
			...event,
			factorId: outcome.factorId,
			type: "verification.replay_rejected",
			data: { purpose: target.purpose, method: outcome.factorId === null ? "recovery_code" : "totp" },
		});
	}
	await appendEvent(tx, deps.random, now, {
		...event,
		type: "verification.failed",
		data: { purpose: target.purpose, reason: outcome.reason, failed_attempts: failures },
	});
	if (lockedNow) {
		await appendEvent(tx, deps.random, now, { ...event, type: "user.locked", data: { failed_attempts: failures } });
	}
	return outcome;
}

type Evaluation =
	| { ok: true; method: "totp"; factor: FactorTable }
	| { ok: true; method: "recovery_code" }
	| Extract<ProofOutcome, { ok: false; reason: "invalid" | "malformed" | "replay" }>;

async function evaluate(
	tx: Store,
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	userFactors: FactorTable[],
	prepared: PreparedProof,
	target: ProofTarget,
	now: number,
): Promise<Evaluation> {
	const { shape } = prepared;
	if (shape.kind === "malformed") return { ok: false, reason: "malformed" };

	if (shape.kind === "recovery") {
		if (target.pendingFactorId !== undefined) return { ok: false, reason: "invalid" };
		// Several ids can only match if the same code was issued twice; consume the first that is still unused.
		for (const id of prepared.recoveryMatchIds) {
			if (await tx.recoveryCodes.consume(ctx.tenantId, userId, id, now)) return { ok: true, method: "recovery_code" };
		}
		return prepared.recoveryMatchIds.length > 0 ? { ok: false, reason: "replay", factorId: null } : { ok: false, reason: "invalid" };
	}

	const factors = userFactors.filter((factor) =>
		target.pendingFactorId !== undefined
			? factor.id === target.pendingFactorId && factor.status === "pending"
			: factor.status === "active" && (target.factorId === undefined || factor.id === target.factorId),
	);
	let replayed: string | null = null;
	for (const factor of factors) {
		if (factor.digits !== shape.code.length || factor.secret_envelope === null) continue;
		const key = openFactorSecret(deps.keyring, factor, factor.secret_envelope);
		const step = verifyTOTP({
			key,
			code: shape.code,
			nowInMilliseconds: now,
			periodInSeconds: factor.period,
			digits: factor.digits,
			algorithm: factor.algorithm,
			windowInSteps: ctx.settings.totp.window,
		});
		key.fill(0);
		if (step === null) continue;
		// The conditional UPDATE is the linearization point: its row count is the decision (R-OTP-1, V-3).
		const consumed =
			target.pendingFactorId !== undefined
				? await tx.factors.activate(ctx.tenantId, userId, factor.id, Number(step), now)
				: await tx.factors.consumeStep(ctx.tenantId, userId, factor.id, Number(step), now);
		if (consumed) return { ok: true, method: "totp", factor };
		replayed = factor.id;
	}
	return replayed === null ? { ok: false, reason: "invalid" } : { ok: false, reason: "replay", factorId: replayed };
}

/** The public error for a failed proof: wrong, replayed, malformed and unknown-user all read the same. */
export function proofError(outcome: Extract<ProofOutcome, { ok: false }>): ServiceError {
	switch (outcome.reason) {
		case "locked":
			return new ServiceError("locked");
		case "throttled":
			return new ServiceError("too_many_attempts", { retryAfterSeconds: outcome.retryAfterSeconds });
		default:
			return new ServiceError("invalid_code");
	}
}
