import type { AssertionClaims, VerifiedProof } from "../core/assertion-claims.js";
import { constantTimeEqual } from "../core/constant-time.js";
import { oneTimeCodeHash } from "../core/one-time-code.js";
import type { Keyring } from "../core/keyring.js";
import { findMatchingRecoveryCodes, normalizeRecoveryCode, RECOVERY_CODE_COUNT } from "../core/recovery-codes.js";
import {
	type Strength,
	strengthOfAssertion,
	strengthOfFactor,
	strengthOfPresented,
	strengthToAdd,
	strengthToKeep,
	sufficient,
} from "../core/proof-strength.js";
import { verifyTOTP } from "../core/totp.js";
import { checkAssertion, isCounterRegression, relyingParty } from "../factors/webauthn.js";
// HOTP: see factors/hotp
import { matchHOTP } from "../factors/hotp/match.js";
import { evaluateHOTPResync } from "../factors/hotp/resync-evaluation.js";
import type { Store } from "../store/store.js";
import type { FactorTable } from "../store/tables.js";
import { FRESH_PROOF_SECONDS, readAssertion } from "./assertions.js";
import { ATTEMPT_RECORD_TTL_MS, attemptBlock, isAttemptRecord, throttleDelayInSeconds } from "./attempt-budget.js";
import type { ServiceDeps } from "./deps.js";
import { appendEvent } from "./events.js";
import { openFactorSecret, sealFactorSecret } from "./factor-secret.js";
import { ServiceError } from "./service-error.js";
import type { TenantContext } from "./tenant-context.js";

/**
 * A proof is a code presented for a user: to verify, to confirm a new factor,
 * or to authorize a factor change. All of them go through attemptProof, so
 * they share one attempt budget, one replay rule and one set of events.
 */
export type Purpose = "verify" | "confirm" | "add_factor" | "delete_factor" | "regenerate_recovery_codes" | "resync";

/**
 * What a caller presents: a code (TOTP or recovery), a WebAuthn assertion answering
 * a challenge, or (for factor changes only) a fresh step-up assertion Twofold signed.
 */
export interface ProofInput {
	code?: unknown;
	challenge_id?: unknown;
	credential?: unknown;
	assertion?: unknown;
}

/** What a 400 proof_required says is missing, when adding a factor to a user who has an active one (R-LC-1). */
export const PROOF_EXPECTED = "is required: a proof from an active factor (code, challenge_id with credential, or a step-up assertion)";

export function hasProof(input: ProofInput): boolean {
	return input.code !== undefined || input.challenge_id !== undefined || input.credential !== undefined || input.assertion !== undefined;
}

/**
 * R-OTP-11 / V-2: a TOTP code is exactly 6-8 ASCII digits in a JSON string;
 * no trimming, no Unicode digits, no numbers. A recovery code is its one
 * documented format (hyphens and case forgiven). Anything else is malformed,
 * and a malformed code is a failed attempt like any other.
 */
export type CodeShape =
	| { kind: "otp"; code: string }
	| { kind: "recovery"; normalized: string }
	| { kind: "webauthn"; challengeId: string; credential: unknown }
	| { kind: "assertion"; token: unknown }
	| { kind: "email"; challengeId: string; code: string }
	/** Confirm of a WebAuthn factor: the registration response, checked by ProofTarget.registration. */
	| { kind: "registration" }
	/** HOTP: two consecutive codes resynchronizing target.factorId (factors/hotp/resync.ts). */
	| { kind: "hotp_resync"; codes: readonly [string, string] }
	| { kind: "malformed" };

export function classifyProof(input: ProofInput): CodeShape {
	if (input.assertion !== undefined) {
		const others = input.code !== undefined || input.challenge_id !== undefined || input.credential !== undefined;
		return others ? { kind: "malformed" } : { kind: "assertion", token: input.assertion };
	}
	if (input.challenge_id !== undefined && input.credential === undefined && input.code !== undefined) {
		// An email code answers the challenge it was sent for (R-EM-2): exactly six ASCII digits.
		const { challenge_id: challengeId, code } = input;
		return typeof challengeId === "string" && typeof code === "string" && /^[0-9]{6}$/.test(code) ? { kind: "email", challengeId, code } : { kind: "malformed" };
	}
	if (input.challenge_id !== undefined || input.credential !== undefined) {
		// One proof per request: a code beside an assertion is malformed, not a second chance.
		if (input.code !== undefined || typeof input.challenge_id !== "string" || input.credential === undefined) return { kind: "malformed" };
		return { kind: "webauthn", challengeId: input.challenge_id, credential: input.credential };
	}
	return classifyCode(input.code);
}

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
	/** A WebAuthn assertion checked before the transaction (signature checks are async); see evaluateAssertion. */
	assertion?: PreparedAssertion;
	/** A step-up assertion's claims once its signature and expiry checked out; null when they did not. */
	stepUp?: AssertionClaims | null;
}

interface PreparedAssertion {
	/** The challenge existed for this user and ceremony when the assertion was checked. */
	challengeFound: boolean;
	/** Present when every ceremony check passed: the factor it proves and its new counter. */
	verified?: { factorId: string; credentialId: string; newCounter: number; userVerified: boolean };
}

/**
 * Work done outside the transaction. Recovery-code hashing takes milliseconds;
 * doing it here keeps the write transaction short. A user who may not attempt
 * now is not evaluated at all.
 */
export async function prepareProof(deps: ServiceDeps, ctx: TenantContext, userId: string, input: ProofInput): Promise<PreparedProof> {
	// D-7: with a clock this far off, a time-based check could accept the wrong step; nothing is attempted or counted.
	if (!deps.clockTrusted()) throw new ServiceError("clock_skew");
	const shape = classifyProof(input);
	if (shape.kind !== "recovery" && shape.kind !== "webauthn" && shape.kind !== "assertion") return { shape, recoveryMatchIds: [] };
	const user = await deps.store.users.find(ctx.tenantId, userId);
	// An id with no row yet is about to get its attempt record (attemptProof): it is prepared like a user whose
	// attempt may be made, so its answer takes as long (V-12a). A blocked one is not evaluated at all.
	if (user !== undefined && attemptBlock(user, deps.clock().getTime()) !== null) return { shape, recoveryMatchIds: [] };
	if (shape.kind === "webauthn") return { shape, recoveryMatchIds: [], assertion: await prepareAssertion(deps, ctx, userId, shape) };
	if (shape.kind === "assertion") return { shape, recoveryMatchIds: [], stepUp: await readAssertion(deps, shape.token) };
	const stored = await deps.store.recoveryCodes.listUnused(ctx.tenantId, userId);
	// V-12a: always a full set's worth of hashing, so the time says nothing about how many unused codes the
	// user has, or whether the id has any (a decoy's match, if one ever happened, is ignored).
	const padded = [...stored, ...DECOY_RECOVERY_CODES.slice(0, Math.max(0, RECOVERY_CODE_COUNT - stored.length))];
	const matches = (await findMatchingRecoveryCodes(shape.normalized, padded)).filter((index) => index < stored.length);
	return { shape, recoveryMatchIds: matches.map((index) => stored[index]!.id) };
}

/** Stand-ins hashed in place of missing recovery codes: a fixed salt and a hash that no scrypt output is expected to equal. */
const DECOY_RECOVERY_CODES = Array.from({ length: RECOVERY_CODE_COUNT }, (_, index) => ({
	salt: Buffer.alloc(16, index).toString("base64url"),
	hash: Buffer.alloc(32, 0).toString("base64url"),
}));

/**
 * Checks a WebAuthn assertion against the user's stored challenge and credential,
 * outside the transaction. Nothing here decides: the transaction consumes the
 * challenge (R-WA-2) and compares the counter with the row it holds (R-WA-3).
 */
async function prepareAssertion(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	shape: Extract<CodeShape, { kind: "webauthn" }>,
): Promise<PreparedAssertion> {
	const challenge = await deps.store.challenges.find(ctx.tenantId, userId, shape.challengeId);
	if (challenge === undefined || challenge.ceremony !== "authentication") return { challengeFound: false };
	const rp = relyingParty(ctx.settings.webauthn);
	const credentialId = (shape.credential as { id?: unknown } | null)?.id;
	if (rp === null || typeof credentialId !== "string") return { challengeFound: true };
	// Scoped to this tenant and user: another user's credential is simply not found (R-WA-6).
	const stored = await deps.store.webauthnCredentials.findByCredentialId(ctx.tenantId, userId, credentialId);
	if (stored === undefined) return { challengeFound: true };
	const checked = await checkAssertion(rp, shape.credential, challenge.challenge, {
		credentialId: stored.credential_id,
		publicKey: stored.public_key,
		transports: JSON.parse(stored.transports) as string[],
		userHandle: stored.user_handle,
	});
	if (checked === null) return { challengeFound: true };
	return {
		challengeFound: true,
		verified: { factorId: stored.factor_id, credentialId: stored.credential_id, newCounter: checked.newCounter, userVerified: checked.userVerified },
	};
}

/** What a WebAuthn proof says about the key, for the assertion's amr (RFC 8176 hwk/swk, user). */
export interface KeyFacts {
	deviceBound: boolean;
	userVerified: boolean;
}

export type ProofOutcome =
	| { ok: true; method: "totp" | "hotp"; factor: FactorTable; recoveryCodesRemaining: number }
	| { ok: true; method: "webauthn"; factor: FactorTable; key: KeyFacts; recoveryCodesRemaining: number }
	| { ok: true; method: "recovery_code" | "assertion" | "email"; recoveryCodesRemaining: number }
	| { ok: false; reason: "unknown_user" | "locked" }
	| { ok: false; reason: "throttled"; retryAfterSeconds: number }
	| { ok: false; reason: "invalid" | "malformed" | "invalid_assertion" | "insufficient" }
	| { ok: false; reason: "replay"; factorId: string | null; spentAssertion?: true }
	| { ok: false; reason: "registration_refused"; refusal: RegistrationRefusal };

/** Why a WebAuthn registration response did not confirm its pending factor: each is a failed attempt. */
export type RegistrationRefusal = "invalid_credential" | "credential_exists" | "factor_expired";

/**
 * Confirming a WebAuthn factor: the registration response is the proof. It is checked (challenge consumed,
 * credential bound, factor activated) inside the attempt's transaction, after the budget check, so a locked
 * user cannot confirm and a refusal counts like a wrong code (issue 12 finding 7, R-OTP-6).
 */
export type RegistrationProof = (tx: Store, now: number) => Promise<{ ok: true; factor: FactorTable; key: KeyFacts } | { ok: false; refusal: RegistrationRefusal }>;

/**
 * The factor change a proof authorizes, for the strength order (core/proof-strength.ts): adding a factor of
 * this type, removing this factor, or changing something beside the factors (recovery codes) while all remain.
 */
export type FactorChange = { adding: FactorTable["type"] } | { removing: string } | { keeping: "all" };

export interface ProofTarget {
	purpose: Purpose;
	/** confirm: only this pending factor may match, and matching activates it. */
	pendingFactorId?: string;
	/** verify: only this active factor's TOTP or HOTP is checked; resync: the HOTP factor to resynchronize. */
	factorId?: string;
	/** Factor changes: the proof must be at least as strong as this change requires (R-LC-1, R-LC-4, R-RC-5). */
	change?: FactorChange;
	/** confirm of a WebAuthn factor (with pendingFactorId): the registration to complete as the proof. */
	registration?: RegistrationProof;
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

	const outcome = await evaluate(tx, deps, ctx, userId, state.factors, prepared, target, now);
	// An attempt record's events are written like a user's (the same durable write, V-12a) but name no user:
	// the id goes in the data, so an id Twofold does not know has no events of its own (ADR 0002).
	const record = isAttemptRecord(user);
	const event = { tenantId: ctx.tenantId, userId: record ? null : userId };
	const about = record ? { unknown_user_id: userId } : {};
	if (outcome.ok) {
		if (user.failed_attempts > 0) await tx.users.clearFailures(ctx.tenantId, userId);
		const used = outcome.method === "recovery_code" ? 1 : 0;
		return { ...outcome, recoveryCodesRemaining: state.recoveryCodesRemaining - used };
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
			// HOTP: a replayed HOTP counter is named as such (factors/hotp).
			data: { purpose: target.purpose, method: state.factors.some((f) => f.id === outcome.factorId && f.type === "hotp") ? "hotp" : replayedMethod(prepared.shape, outcome.factorId) },
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
	return outcome;
}

function replayedMethod(shape: CodeShape, factorId: string | null): string {
	if (shape.kind === "webauthn" || shape.kind === "assertion" || shape.kind === "email") return shape.kind;
	return factorId === null ? "recovery_code" : "totp";
}

type Evaluation =
	| { ok: true; method: "totp" | "hotp"; factor: FactorTable }
	| { ok: true; method: "webauthn"; factor: FactorTable; key: KeyFacts }
	| { ok: true; method: "recovery_code" | "assertion" | "email" }
	| Extract<ProofOutcome, { ok: false; reason: "invalid" | "malformed" | "invalid_assertion" | "insufficient" | "replay" | "registration_refused" }>;

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
	if (shape.kind === "registration") {
		if (target.registration === undefined || target.pendingFactorId === undefined) return { ok: false, reason: "invalid" };
		const registered = await target.registration(tx, now);
		if (!registered.ok) return { ok: false, reason: "registration_refused", refusal: registered.refusal };
		return { ok: true, method: "webauthn", factor: registered.factor, key: registered.key };
	}
	if (shape.kind === "malformed") return { ok: false, reason: "malformed" };
	// Decided on the user's factors as this transaction holds them, before anything is consumed: a code too
	// weak for the change is refused (and counted) without spending it.
	if (target.change !== undefined) {
		const required = requiredStrength(ctx, userFactors, target.change);
		const presented = presentedStrength(prepared);
		if (required !== undefined && presented !== undefined && !sufficient(presented, required)) return { ok: false, reason: "insufficient" };
	}
	if (shape.kind === "webauthn") return evaluateAssertion(tx, deps, ctx, userId, userFactors, shape, prepared.assertion, target, now);
	if (shape.kind === "assertion") return evaluateStepUp(tx, ctx, userId, userFactors, prepared.stepUp ?? null, target, now);
	if (shape.kind === "email") return evaluateEmailCode(tx, deps, ctx, userId, shape, target, now);
	// HOTP: resync, see factors/hotp/resync-evaluation.ts. Only the resync purpose takes this shape.
	if (shape.kind === "hotp_resync") {
		return target.purpose === "resync" ? evaluateHOTPResync(tx, deps, ctx, userId, userFactors, target.factorId, shape.codes, now) : { ok: false, reason: "invalid" };
	}

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
	let checked = 0;
	for (const factor of factors) {
		// HOTP: see factors/hotp/match.ts (look-ahead window, counter consumed like a step).
		if (factor.type === "hotp") {
			const match = await matchHOTP(tx, deps, ctx, userId, factor, shape.code, target.pendingFactorId !== undefined, now);
			if (match === "skipped") continue;
			checked += 1;
			if (match === "accepted") return { ok: true, method: "hotp", factor };
			if (match === "replay") replayed = factor.id;
			continue;
		}
		if (factor.type !== "totp" || factor.digits !== shape.code.length || factor.secret_envelope === null) continue;
		if (factor.period === null || factor.algorithm === null) continue;
		checked += 1;
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
	// V-12a: no candidate (an unknown id, no active TOTP factor, other digits): one decoy secret is opened and
	// checked the same way, so the answer takes as long as a user's with one factor. Its result is ignored.
	if (checked === 0) checkDecoyTOTP(deps, ctx, shape.code, now);
	return replayed === null ? { ok: false, reason: "invalid" } : { ok: false, reason: "replay", factorId: replayed };
}

/** What a factor change requires, from the active factors (core/proof-strength.ts); undefined: no factor to protect. */
function requiredStrength(ctx: TenantContext, userFactors: FactorTable[], change: FactorChange): Strength | undefined {
	const uvRequired = ctx.settings.webauthn.user_verification === "required";
	const active = userFactors.filter((factor) => factor.status === "active");
	const levels = (factors: FactorTable[]) => factors.map((factor) => strengthOfFactor(factor.type, uvRequired));
	if ("adding" in change) return strengthToAdd(levels(active), strengthOfFactor(change.adding, uvRequired));
	if ("removing" in change) return strengthToKeep(levels(active.filter((factor) => factor.id !== change.removing)));
	return strengthToKeep(levels(active));
}

/**
 * How strong the presented proof is, by its kind. A WebAuthn response counts as user-verified only once its
 * ceremony checked out; an assertion by its acr and amr once its signature did (undefined: it is refused anyway).
 */
function presentedStrength(prepared: PreparedProof): Strength | undefined {
	const { shape } = prepared;
	switch (shape.kind) {
		case "otp":
			return strengthOfPresented({ kind: "otp" });
		case "recovery":
			return strengthOfPresented({ kind: "recovery" });
		case "email":
			return strengthOfPresented({ kind: "email" });
		case "webauthn":
			return strengthOfPresented({ kind: "webauthn", userVerified: prepared.assertion?.verified?.userVerified === true });
		case "assertion":
			return prepared.stepUp == null ? undefined : strengthOfAssertion(prepared.stepUp.acr, prepared.stepUp.amr);
		default:
			return undefined;
	}
}

/** One sealed random secret per key ring, opened like a factor's by checkDecoyTOTP. */
const decoySecrets = new WeakMap<Keyring, { row: { tenant_id: string; user_id: string; id: string }; envelope: string }>();

function checkDecoyTOTP(deps: ServiceDeps, ctx: TenantContext, code: string, now: number): void {
	const { keyring } = deps;
	let decoy = decoySecrets.get(keyring);
	if (decoy === undefined) {
		const row = { tenant_id: "decoy", user_id: "decoy", id: "fac_decoy" };
		const secret = deps.random(20);
		decoy = { row, envelope: sealFactorSecret(keyring, deps.random, row, secret) };
		secret.fill(0);
		decoySecrets.set(keyring, decoy);
	}
	const key = openFactorSecret(keyring, decoy.row, decoy.envelope);
	verifyTOTP({
		key,
		code,
		nowInMilliseconds: now,
		periodInSeconds: ctx.settings.totp.period,
		digits: code.length,
		algorithm: ctx.settings.totp.algorithm,
		windowInSteps: ctx.settings.totp.window,
	});
	key.fill(0);
}

/**
 * The challenge is consumed first and whatever follows (R-WA-2: used once,
 * success or failure), so 50 concurrent copies of one assertion get one
 * success. Then the counter is compared with the row this transaction holds
 * and advanced with a conditional update (R-WA-3).
 */
async function evaluateAssertion(
	tx: Store,
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	userFactors: FactorTable[],
	shape: Extract<CodeShape, { kind: "webauthn" }>,
	assertion: PreparedAssertion | undefined,
	target: ProofTarget,
	now: number,
): Promise<Evaluation> {
	if (target.pendingFactorId !== undefined) return { ok: false, reason: "invalid" };
	const consumed = await tx.challenges.consume(ctx.tenantId, userId, shape.challengeId, "authentication", now);
	if (!consumed) return assertion?.challengeFound === true ? { ok: false, reason: "replay", factorId: null } : { ok: false, reason: "invalid" };
	const verified = assertion?.verified;
	if (verified === undefined) return { ok: false, reason: "invalid" };
	const factor = userFactors.find(
		(f) => f.id === verified.factorId && f.type === "webauthn" && f.status === "active" && (target.factorId === undefined || f.id === target.factorId),
	);
	if (factor === undefined) return { ok: false, reason: "invalid" };
	// Read again inside the transaction: this row's counter is the one compared and advanced.
	const credential = await tx.webauthnCredentials.findByCredentialId(ctx.tenantId, userId, verified.credentialId);
	if (credential === undefined || credential.factor_id !== factor.id) return { ok: false, reason: "invalid" };
	if (isCounterRegression(credential.sign_count, verified.newCounter)) {
		// A cloned authenticator, or a replayed assertion from before the last one (R-WA-3).
		await appendEvent(tx, deps.random, now, {
			tenantId: ctx.tenantId,
			userId,
			factorId: factor.id,
			type: "webauthn.counter_regression",
			data: { stored_counter: credential.sign_count, presented_counter: verified.newCounter },
		});
		return { ok: false, reason: "invalid" };
	}
	if (!(await tx.webauthnCredentials.advanceCounter(ctx.tenantId, userId, factor.id, credential.sign_count, verified.newCounter))) {
		return { ok: false, reason: "invalid" };
	}
	await tx.factors.touch(ctx.tenantId, userId, factor.id, now);
	// Device-bound (RFC 8176 hwk): a verified attestation chain (V-15), single-device and not backed up. The flags alone
	// are the authenticator's own word; a synced passkey or an unattested key is a software-held key (swk).
	const deviceBound = credential.attested === 1 && credential.device_type === "singleDevice" && !credential.backed_up;
	return { ok: true, method: "webauthn", factor, key: { deviceBound, userVerified: verified.userVerified } };
}

/**
 * A step-up assertion as the proof for a factor change (R-LC-1, R-LC-4, R-RC-5):
 * Twofold's own, for this tenant and user, at most five minutes old, approving
 * no particular action, from a factor that is still active (R-LC-3), strong
 * enough for the change by its acr and amr (checked in evaluate, before this:
 * an email assertion never is), and spent here: its jti is recorded in this
 * transaction, so it authorizes one change.
 * It proves an earlier verify, so it never stands in for a verify or a confirm.
 */
async function evaluateStepUp(
	tx: Store,
	ctx: TenantContext,
	userId: string,
	userFactors: FactorTable[],
	claims: AssertionClaims | null,
	target: ProofTarget,
	now: number,
): Promise<Evaluation> {
	const refused = { ok: false, reason: "invalid_assertion" } as const;
	if (target.purpose === "verify" || target.purpose === "confirm" || claims === null) return refused;
	if (claims.tid !== ctx.tenantId || claims.sub !== userId || claims.action_hash !== undefined) return refused;
	if (claims.auth_time < now / 1000 - FRESH_PROOF_SECONDS) return refused;
	if (claims.factor_id !== undefined && !userFactors.some((factor) => factor.id === claims.factor_id && factor.status === "active")) return refused;
	const first = await tx.redeemedAssertions.redeem({ jti: claims.jti, tenant_id: ctx.tenantId, user_id: userId, expires_at: claims.exp * 1000, redeemed_at: now });
	return first ? { ok: true, method: "assertion" } : { ok: false, reason: "replay", factorId: null, spentAssertion: true };
}

/**
 * An email code (R-EM-1…4): only to verify (low assurance never authorizes a factor change), only while the
 * tenant has email codes on, only for the challenge it was sent for, once. A wrong code leaves the challenge
 * open (the attempt budget, not the code, limits guessing); the right one is consumed by a conditional
 * update whose row count decides a race.
 */
async function evaluateEmailCode(
	tx: Store,
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	shape: Extract<CodeShape, { kind: "email" }>,
	target: ProofTarget,
	now: number,
): Promise<Evaluation> {
	if (target.purpose !== "verify" || target.factorId !== undefined || !ctx.settings.email.enabled) return { ok: false, reason: "invalid" };
	const challenge = await tx.challenges.find(ctx.tenantId, userId, shape.challengeId);
	if (challenge === undefined || challenge.ceremony !== "email") return { ok: false, reason: "invalid" };
	// Every master key's MAC key is tried (all of them, so the time does not say which matched): a code sent
	// before a master-key rotation still checks after it.
	const binding = { tenantId: ctx.tenantId, userId, challengeId: challenge.id };
	const matched = deps.keyring.codeMacKeys.reduce((found, key) => constantTimeEqual(oneTimeCodeHash(key, binding, shape.code), challenge.challenge) || found, false);
	if (!matched || challenge.expires_at <= now) return { ok: false, reason: "invalid" };
	if (!(await tx.challenges.consume(ctx.tenantId, userId, challenge.id, "email", now))) return { ok: false, reason: "replay", factorId: null };
	return { ok: true, method: "email" };
}

/** What a successful proof verified, for its assertion. A step-up assertion is never re-issued as a new one. */
export function verifiedProofOf(outcome: Extract<ProofOutcome, { ok: true }>): VerifiedProof {
	switch (outcome.method) {
		case "totp":
			return { method: "totp", factorId: outcome.factor.id };
		// HOTP: see factors/hotp
		case "hotp":
			return { method: "hotp", factorId: outcome.factor.id };
		case "webauthn":
			return { method: "webauthn", factorId: outcome.factor.id, ...outcome.key };
		case "recovery_code":
			return { method: "recovery_code" };
		case "email":
			return { method: "email" };
		case "assertion":
			throw new Error("a step-up assertion proves a factor change, not a verify");
	}
}

/** The public error for a failed proof: wrong, replayed, malformed and unknown-user all read the same. */
export function proofError(outcome: Extract<ProofOutcome, { ok: false }>): ServiceError {
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
