import type { ServiceDeps } from "./deps.js";
import { appendEvent } from "./events.js";
import { attemptProof, hasProof, prepareProof, type ProofInput, proofError } from "./proofs.js";
import { ServiceError } from "./service-error.js";
import type { TenantContext } from "./tenant-context.js";

export interface VerifyResult {
	valid: true;
	method: "totp" | "webauthn" | "recovery_code";
	factor_id?: string;
	recovery_codes_remaining: number;
}

/**
 * POST /v1/users/{id}/verify. Success is the only 2xx; every failure is an
 * error after its attempt was committed. An unknown user, a user without
 * factors, a wrong, replayed or malformed code all read as invalid_code.
 */
export async function verifyCode(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	input: ProofInput & { factorId?: string },
): Promise<VerifyResult> {
	// No proof at all is a malformed request, not an attempt; a malformed proof is an attempt (V-2).
	if (!hasProof(input)) throw new ServiceError("invalid_request");
	const prepared = await prepareProof(deps, ctx, userId, input);
	const outcome = await deps.store.transaction(async (tx) => {
		const target = input.factorId === undefined ? { purpose: "verify" as const } : { purpose: "verify" as const, factorId: input.factorId };
		const proof = await attemptProof(tx, deps, ctx, userId, prepared, target);
		if (!proof.ok) return { proof, remaining: 0 };
		const now = deps.clock().getTime();
		const remaining = proof.recoveryCodesRemaining;
		const factorId = proof.method === "recovery_code" ? null : proof.factor.id;
		await appendEvent(tx, deps.random, now, {
			tenantId: ctx.tenantId,
			userId,
			factorId,
			type: "verification.succeeded",
			data: { purpose: "verify", method: proof.method },
		});
		if (proof.method === "recovery_code") {
			await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, userId, type: "recovery_code.used", data: { remaining } });
		}
		return { proof, remaining };
	});
	const { proof } = outcome;
	if (!proof.ok) throw proofError(proof);
	const result: VerifyResult = { valid: true, method: proof.method, recovery_codes_remaining: outcome.remaining };
	if (proof.method !== "recovery_code") result.factor_id = proof.factor.id;
	return result;
}
