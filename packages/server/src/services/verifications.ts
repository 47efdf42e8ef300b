import type { Static } from "@sinclair/typebox";
import type { Verification } from "../contract/schemas/verifications.js";
import { type AssertionRequest, actionHashOf, issueAssertion } from "./assertions.js";
import type { ServiceDeps } from "./deps.js";
import { appendEvent } from "./events.js";
import type { ProofInput } from "../factors/proof-kind.js";
import { type AttemptSnapshot, attemptProof, decideProof, hasProof, plannable, prepareProof, proofError, verifiedProofOf } from "./proofs.js";
import { fieldError } from "../contract/service-error.js";
import type { TenantContext } from "./tenant-context.js";

/** The verify answer: the contract's Verification. Its assertion is what the application's own API checks (R-AS-1). */
export type VerifyResult = Static<typeof Verification>;

/**
 * POST /v1/users/{id}/verify. Success is the only 2xx; every failure is an
 * error after its attempt was committed. An unknown user, a user without
 * factors, a wrong, replayed or malformed code all read as invalid_code.
 */
export async function verifyCode(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	input: ProofInput & AssertionRequest & { factorId?: string },
	snapshot?: AttemptSnapshot,
): Promise<VerifyResult> {
	// No proof at all is a malformed request, not an attempt; a malformed proof is an attempt (V-2).
	if (!hasProof(input)) throw fieldError("invalid_request", "/code", "is required, or challenge_id with credential");
	const actionHash = await actionHashOf(input.action);
	const prepared = await prepareProof(deps, ctx, userId, input);
	const target = input.factorId === undefined ? { purpose: "verify" as const } : { purpose: "verify" as const, factorId: input.factorId };
	// PostgreSQL, issue 19 (ADR 0009): with the user's state read by the authentication, a code is decided by one
	// statement that also writes verification.succeeded. Other proofs (recovery codes, WebAuthn, email codes), and
	// SQLite, whose transaction is one local call, take the transactional path below.
	const decided =
		snapshot !== undefined && snapshot.userId === userId && deps.store.dialect === "postgres" && plannable(prepared)
			? await decideProof(deps, ctx, userId, prepared, snapshot.state, target)
			: undefined;
	const outcome = decided !== undefined ? { proof: decided, remaining: decided.ok ? decided.recoveryCodesRemaining : 0 } : await deps.store.transaction(async (tx) => {
		const proof = await attemptProof(tx, deps, ctx, userId, prepared, target);
		if (!proof.ok) return { proof, remaining: 0 };
		const now = deps.clock().getTime();
		const remaining = proof.recoveryCodesRemaining;
		const factorId = proof.factor?.id ?? null;
		await appendEvent(tx, deps.random, now, {
			tenantId: ctx.tenantId,
			userId,
			factorId,
			type: "verification.succeeded",
			data: { purpose: "verify", method: proof.proven.method },
		});
		if (proof.proven.method === "recovery_code") {
			await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, userId, type: "recovery_code.used", data: { remaining } });
			// Someone got in without the user's factor: the user should hear of it.
			await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, userId, type: "user.security_notice", data: { reason: "recovery_code_used", remaining } });
		}
		return { proof, remaining };
	});
	const { proof } = outcome;
	if (!proof.ok) throw proofError(proof);
	const verified = verifiedProofOf(proof);
	// Signed after the commit: the assertion speaks of an attempt that is durably spent (R-ST-6).
	const assertion = await issueAssertion(deps, ctx, userId, verified, {
		actionHash,
		firstFactorPassed: input.first_factor === true,
		audience: input.audience,
	});
	const result: VerifyResult = { valid: true, method: verified.method, recovery_codes_remaining: outcome.remaining, assertion };
	if ("factorId" in verified) result.factor_id = verified.factorId;
	return result;
}
