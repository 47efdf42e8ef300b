import type { VerifiedProof } from "../core/assertion-claims.js";
import { type Strength, strengthOfFactor, strengthToAdd, strengthToKeep, sufficient } from "../core/proof-strength.js";
import { ServiceError } from "../contract/service-error.js";
import type { Claimed, Evaluation, FactorChange, KindEvent, ProofEnv, ProofInput, ProofScope, ProvenBy, Purpose, RegistrationRefusal, StepEffect } from "../factors/proof-kind.js";
import { generateId } from "../core/id.js";
import { claimProof } from "../factors/registry.js";
import type { AttemptState, Store } from "../store/store.js";
import type { FactorTable } from "../store/tables.js";
import { readAssertion } from "./assertions.js";
import { ATTEMPT_RECORD_TTL_MS, attemptBlock, isAttemptRecord, throttleDelays, throttleDelayInSeconds } from "./attempt-budget.js";
import type { ServiceDeps } from "./deps.js";
import { logCeremonyRefusal } from "./ceremony-refusal-log.js";
import { appendEvent, type EventType, observeCommitted } from "./events.js";
import type { TenantContext } from "./tenant-context.js";

/**
 * The attempt path, written once for every kind of proof (ADR 0007): a code presented to verify, to confirm a
 * new factor, or to authorize a factor change goes through attemptProof, so all of them share one attempt
 * budget, one replay rule and one set of events. What a kind accepts and how it decides is its own
 * (factors/<kind>/, dispatched through factors/registry.ts); nothing here names a kind.
 */

/** What a 400 proof_required says is missing, when adding a factor to a user who has an active one (R-LC-1). */
export const PROOF_EXPECTED = "is required: a proof from an active factor (code, challenge_id with credential, or a step-up assertion)";

export function hasProof(input: ProofInput): boolean {
	return input.code !== undefined || input.challenge_id !== undefined || input.credential !== undefined || input.assertion !== undefined;
}

/** The kinds that claimed the request's proof, each with what it prepared; "malformed" when none could (V-2). */
export interface PreparedProof {
	claimed: readonly Claimed[] | "malformed";
}

/** What a kind may use: the tenant, the user, the store and the keys, and Twofold's own assertion check. */
export function proofEnv(deps: ServiceDeps, ctx: TenantContext, userId: string): ProofEnv {
	return {
		store: deps.store,
		keyring: deps.keyring,
		random: deps.random,
		tenantId: ctx.tenantId,
		userId,
		settings: ctx.settings,
		readAssertion: (token) => readAssertion(deps, token),
		attestationTrust: deps.attestationTrust,
		ceremonyRefused: (ceremony, refused) => logCeremonyRefusal(deps, ctx.tenantId, userId, ceremony, refused),
	};
}

/** Claims the request's proof through the registry and prepares it (see prepareClaimed). */
export function prepareProof(deps: ServiceDeps, ctx: TenantContext, userId: string, input: ProofInput): Promise<PreparedProof> {
	return prepareClaimed(deps, ctx, userId, claimProof(input));
}

/**
 * Work done outside the transaction: recovery-code hashing and signature checks take milliseconds; doing them
 * here keeps the write transaction short. A user who may not attempt now is not evaluated at all.
 */
export async function prepareClaimed(deps: ServiceDeps, ctx: TenantContext, userId: string, claimed: readonly Claimed[] | "malformed"): Promise<PreparedProof> {
	// D-7: with a clock this far off, a time-based check could accept the wrong step; nothing is attempted or counted.
	if (!deps.clockTrusted() && (claimed === "malformed" || claimed.some(({ kind }) => kind.clockFree !== true))) throw new ServiceError("clock_skew");
	if (claimed === "malformed" || !claimed.some(({ kind }) => kind.prepare !== undefined)) return { claimed };
	const user = await deps.store.users.find(ctx.tenantId, userId);
	// An id with no row yet is about to get its attempt record (attemptProof): it is prepared like a user whose
	// attempt may be made, so its answer takes as long (V-12a). A blocked one is not evaluated at all.
	if (user !== undefined && attemptBlock(user, deps.clock().getTime()) !== null) return { claimed };
	const env = proofEnv(deps, ctx, userId);
	const prepared = await Promise.all(
		claimed.map(async (claim) => (claim.kind.prepare === undefined ? claim : { ...claim, prepared: await claim.kind.prepare(env, claim.presented) })),
	);
	return { claimed: prepared };
}

export type ProofOutcome =
	| { ok: true; proven: ProvenBy; factor?: FactorTable; recoveryCodesRemaining: number }
	| { ok: false; reason: "unknown_user" | "locked" }
	| { ok: false; reason: "throttled"; retryAfterSeconds: number }
	| { ok: false; reason: "invalid" | "malformed" | "invalid_assertion" | "insufficient" }
	| { ok: false; reason: "replay"; factorId: string | null; spentAssertion?: true }
	| { ok: false; reason: "needs_resync"; factorId: string }
	| { ok: false; reason: "registration_refused"; refusal: RegistrationRefusal };

export interface ProofTarget {
	purpose: Purpose;
	/** confirm: only this pending factor may match, and matching activates it. */
	pendingFactorId?: string;
	/** verify: only this active factor is checked; resync: the factor to resynchronize. */
	factorId?: string;
	/** Factor changes: the proof must be at least as strong as this change requires (R-LC-1, R-LC-4, R-RC-5). */
	change?: FactorChange;
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
	// V-12a: an id Twofold does not know gets an attempt record here, so it goes down the same statements,
	// the same throttle and the same lock as a user (for a user the insert finds the row and does nothing).
	const state = await tx.users.lockOrCreateForAttempt(ctx.tenantId, userId, now, now + ATTEMPT_RECORD_TTL_MS);
	if (state === undefined) return { ok: false, reason: "unknown_user" };
	const { user } = state;
	const block = attemptBlock(user, now);
	// Locked or throttled: refused without evaluating the code, and not counted.
	if (block !== null) return block.reason === "locked" ? { ok: false, reason: "locked" } : { ok: false, ...block };

	const env = proofEnv(deps, ctx, userId);
	const scope: ProofScope = { purpose: target.purpose, now, factors: state.factors };
	if (target.pendingFactorId !== undefined) scope.pendingFactorId = target.pendingFactorId;
	if (target.factorId !== undefined) scope.factorId = target.factorId;
	const { outcome, method, events } = await evaluate(tx, env, ctx, prepared, target, scope);
	// An attempt record's events are written like a user's (the same durable write, V-12a) but name no user:
	// the id goes in the data, so an id Twofold does not know has no events of its own (ADR 0002).
	const record = isAttemptRecord(user);
	const event = { tenantId: ctx.tenantId, userId: record ? null : userId };
	const about = record ? { unknown_user_id: userId } : {};
	for (const noted of events) {
		await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, userId, factorId: noted.factorId, type: noted.type, data: noted.data });
	}
	if (outcome.ok) {
		if (user.failed_attempts > 0) await tx.users.clearFailures(ctx.tenantId, userId);
		const used = outcome.proven.method === "recovery_code" ? 1 : 0;
		const success: ProofOutcome = { ok: true, proven: outcome.proven, recoveryCodesRemaining: state.recoveryCodesRemaining - used };
		if (outcome.factor !== undefined) success.factor = outcome.factor;
		return success;
	}

	const failures = user.failed_attempts + 1;
	const lockedNow = failures >= attempts.lock_after;
	const delay = throttleDelayInSeconds(failures, attempts);
	// An attempt record lives on for a while after each counted failure (ATTEMPT_RECORD_TTL_MS); a user's row has none.
	const recordExpiresAt = record ? now + ATTEMPT_RECORD_TTL_MS : null;
	await tx.users.recordFailure(ctx.tenantId, userId, failures, delay > 0 ? now + delay * 1000 : 0, lockedNow ? now : null, recordExpiresAt);
	if (outcome.reason === "replay") {
		// R-OTP-9: the caller sees the same answer as a wrong code; the audit trail tells the truth.
		await appendEvent(tx, deps.random, now, {
			...event,
			factorId: outcome.factorId,
			type: "verification.replay_rejected",
			data: { purpose: target.purpose, method },
		});
	}
	await appendEvent(tx, deps.random, now, {
		...event,
		type: "verification.failed",
		data: { purpose: target.purpose, reason: outcome.reason === "registration_refused" ? outcome.refusal : outcome.reason, failed_attempts: failures, ...about },
	});
	if (lockedNow) {
		await appendEvent(tx, deps.random, now, { ...event, type: "user.locked", data: { failed_attempts: failures, ...about } });
	}
	return stripEvents(outcome);
}

/** A user's attempt state as the request's first read saw it (issue 19): null when the tenant has no row for the id. */
export interface AttemptSnapshot {
	userId: string;
	state: AttemptState | null;
}

/** True when every kind that claimed the proof can say its decision as a plan (ProofKind.plan), or none could claim it. */
export function plannable(prepared: PreparedProof): boolean {
	return prepared.claimed === "malformed" || prepared.claimed.every(({ kind }) => kind.plan !== undefined);
}

/**
 * The attempt path in two round trips (PostgreSQL, issue 19, ADR 0009), for a verify whose kinds all plan
 * (plannable). The first round trip was the request's authentication, which read the user's attempt state with the
 * key (AttemptSnapshot); the code is checked here, in Node, against that state; the second round trip is one
 * statement, twofold_decide_attempt, which is the decision: on the user's row held FOR UPDATE it refuses a user
 * locked or throttled meanwhile, consumes the first matched step still unspent (else the failure: a step spent
 * meanwhile is a replay), counts the outcome once and writes the same events and outbox rows as attemptProof, and
 * commits. Whatever this process computed from the first read, that statement decides (R-OTP-1, R-OTP-6, V-3).
 * A user locked or throttled in the first read is refused at once, as attemptProof refuses one: nothing is written.
 */
export async function decideProof(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	prepared: PreparedProof,
	snapshot: AttemptState | null,
	target: { purpose: Purpose; factorId?: string },
): Promise<ProofOutcome> {
	const now = deps.clock().getTime();
	const { attempts } = ctx.settings;
	if (snapshot !== null) {
		const block = attemptBlock(snapshot.user, now);
		if (block !== null) return block.reason === "locked" ? { ok: false, reason: "locked" } : { ok: false, ...block };
	}
	const scope: ProofScope = { purpose: target.purpose, now, factors: snapshot?.factors ?? [] };
	if (target.factorId !== undefined) scope.factorId = target.factorId;
	const planned = combinedPlan(proofEnv(deps, ctx, userId), prepared, scope);
	const { failure } = planned;
	const decision = await deps.store.users.decideAttempt({
		tenantId: ctx.tenantId,
		userId,
		now,
		recordTtlMs: ATTEMPT_RECORD_TTL_MS,
		purpose: target.purpose,
		effects: planned.effects.map(({ factor, step, method }) => ({ factorId: factor.id, step, method })),
		failure: {
			reason: failure.outcome.reason === "registration_refused" ? failure.outcome.refusal : failure.outcome.reason,
			factorId: failure.outcome.reason === "replay" || failure.outcome.reason === "needs_resync" ? failure.outcome.factorId : null,
			method: failure.method,
		},
		lockAfter: attempts.lock_after,
		delays: throttleDelays(attempts),
		eventIds: [generateId("evt", deps.random), generateId("evt", deps.random), generateId("evt", deps.random), generateId("evt", deps.random)],
	});
	switch (decision.decision) {
		case "locked":
			return { ok: false, reason: "locked" };
		case "throttled":
			return { ok: false, reason: "throttled", retryAfterSeconds: decision.retryAfterSeconds };
		case "success": {
			observeCommitted(["verification.succeeded"]);
			const effect = planned.effects.find(({ factor }) => factor.id === decision.factorId)!;
			return { ok: true, proven: effect.proven, factor: effect.factor, recoveryCodesRemaining: snapshot?.recoveryCodesRemaining ?? 0 };
		}
		case "failure": {
			const types: EventType[] = failure.outcome.reason === "replay" ? ["verification.replay_rejected", "verification.failed"] : ["verification.failed"];
			if (decision.lockedNow) types.push("user.locked");
			observeCommitted(types);
			return stripEvents(failure.outcome);
		}
	}
}

/**
 * The kinds' plans as one, in registry order, with evaluate's rules: the effects in the order evaluate would try
 * them (the first that applies wins), and the failure evaluate would keep when none applies (the first, unless a
 * later kind says more than "invalid").
 */
function combinedPlan(
	env: ProofEnv,
	prepared: PreparedProof,
	scope: ProofScope,
): { effects: (StepEffect & { method: string })[]; failure: { outcome: PlannedFailure; method: string } } {
	const { claimed } = prepared;
	if (claimed === "malformed") return { effects: [], failure: { outcome: { ok: false, reason: "malformed" }, method: "malformed" } };
	const effects: (StepEffect & { method: string })[] = [];
	let failure: { outcome: PlannedFailure; method: string } | undefined;
	for (const { kind, presented, prepared: ready } of claimed) {
		const plan = kind.plan!(env, presented as never, ready as never, scope);
		for (const effect of plan.effects) effects.push({ ...effect, method: kind.method });
		const outcome = plan.failure;
		if (failure === undefined || (failure.outcome.reason === "invalid" && outcome.reason !== "invalid")) failure = { outcome, method: kind.method };
	}
	return { effects, failure: failure! };
}

type Failure = Extract<ProofOutcome, { ok: false }>;
type PlannedFailure = Exclude<Evaluation | Failure, { ok: true }>;

/** A failure as the caller sees it: what the kind noted for the audit trail was written by attemptProof already. */
const stripEvents = (outcome: Exclude<Evaluation | Failure, { ok: true }>): Failure => {
	if (!("events" in outcome)) return outcome;
	const { events: _events, ...failure } = outcome;
	return failure;
};

/**
 * Decides the attempt with the kinds that claimed it, in registry order: the first success wins; a replay says
 * more than a wrong code, so it is the failure kept. A change's strength is checked first, on the user's
 * factors as this transaction holds them, so a proof too weak for it is refused (and counted) without being spent.
 */
async function evaluate(
	tx: Store,
	env: ProofEnv,
	ctx: TenantContext,
	prepared: PreparedProof,
	target: ProofTarget,
	scope: ProofScope,
): Promise<{ outcome: Evaluation | Failure; method: string; events: KindEvent[] }> {
	const { claimed } = prepared;
	if (claimed === "malformed") return { outcome: { ok: false, reason: "malformed" }, method: "malformed", events: [] };
	const first = claimed[0]!;
	if (target.change !== undefined) {
		const required = requiredStrength(ctx, scope.factors, target.change);
		const presented = first.kind.strength(first.presented as never, first.prepared as never);
		if (required !== undefined && presented !== undefined && !sufficient(presented, required)) {
			return { outcome: { ok: false, reason: "insufficient" }, method: first.kind.method, events: [] };
		}
	}
	// What every kind tried wants recorded, whichever outcome is kept (ADR 0007: "whatever the outcome").
	const events: KindEvent[] = [];
	let failure: { outcome: Evaluation; method: string } | undefined;
	for (const { kind, presented, prepared: ready } of claimed) {
		const outcome = await kind.evaluate(tx, env, presented as never, ready as never, scope);
		if ("events" in outcome && outcome.events !== undefined) events.push(...outcome.events);
		if (outcome.ok) return { outcome, method: kind.method, events };
		if (failure === undefined || (failure.outcome.ok === false && failure.outcome.reason === "invalid" && outcome.reason !== "invalid")) failure = { outcome, method: kind.method };
	}
	return { ...failure!, events };
}

/** What a factor change requires, from the active factors (core/proof-strength.ts); undefined: no factor to protect. */
function requiredStrength(ctx: TenantContext, userFactors: readonly FactorTable[], change: FactorChange): Strength | undefined {
	const uvRequired = ctx.settings.webauthn.user_verification === "required";
	const active = userFactors.filter((factor) => factor.status === "active");
	const levels = (factors: readonly FactorTable[]) => factors.map((factor) => strengthOfFactor(factor.type, uvRequired));
	if ("adding" in change) return strengthToAdd(levels(active), strengthOfFactor(change.adding, uvRequired));
	if ("removing" in change) return strengthToKeep(levels(active.filter((factor) => factor.id !== change.removing)));
	return strengthToKeep(levels(active));
}

/** What a successful proof verified, for its assertion. A step-up assertion is never re-issued as a new one. */
export function verifiedProofOf(outcome: Extract<ProofOutcome, { ok: true }>): VerifiedProof {
	if (outcome.proven.method === "assertion") throw new Error("a step-up assertion proves a factor change, not a verify");
	return outcome.proven;
}

/** The public error for a failed proof: wrong, replayed, malformed and unknown-user all read the same. */
export function proofError(outcome: Failure): ServiceError {
	switch (outcome.reason) {
		case "locked":
			return new ServiceError("locked");
		case "throttled":
			return new ServiceError("too_many_attempts", { retryAfterSeconds: outcome.retryAfterSeconds });
		case "invalid_assertion":
			return new ServiceError("invalid_assertion");
		case "insufficient":
			return new ServiceError("insufficient_proof");
		case "registration_refused":
			return new ServiceError(outcome.refusal);
		case "replay":
			// A spent assertion reveals nothing a guesser could use (unlike a correct-but-used code, R-OTP-9), so it says what it is.
			return new ServiceError(outcome.spentAssertion === true ? "invalid_assertion" : "invalid_code");
		default:
			return new ServiceError("invalid_code");
	}
}
