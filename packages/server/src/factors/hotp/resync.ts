import type { ServiceDeps } from "../../services/deps.js";
import { appendEvent } from "../../services/events.js";
import { type PublicFactor, publicFactor } from "../../services/factors.js";
import { attemptProof, type PreparedProof, proofError } from "../../services/proofs.js";
import { ServiceError } from "../../services/service-error.js";
import type { TenantContext } from "../../services/tenant-context.js";
import { resyncCodes } from "./resync-evaluation.js";

/**
 * POST /v1/users/{id}/factors/{factor_id}/resync (RFC 4226 §7.4): an HOTP token whose counter ran more than
 * hotp.look_ahead codes ahead is brought back with two consecutive codes. It is a proof like a verify: it goes
 * through attemptProof (one attempt budget per user, R-OTP-6; refused unevaluated when locked or throttled; a
 * failure is counted, committed and only then answered), and the codes are spent (R-OTP-1).
 *
 * It answers the factor and no assertion: a resync repairs a counter, it is not a sign-in. A verify stays the
 * one way to an assertion, with its action binding, audience and first-factor flag; the caller verifies the
 * token's next code as usual.
 */
export async function resyncFactor(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	factorId: string,
	body: { codes?: unknown },
): Promise<{ factor: PublicFactor }> {
	const factor = await deps.store.factors.find(ctx.tenantId, userId, factorId);
	// Another tenant's or user's factor is indistinguishable from a missing one (V-17).
	if (factor === undefined || factor.status === "deleted") throw new ServiceError("factor_not_found");
	// A factor's type and status are in its public view, so refusing here, uncounted, reveals nothing.
	if (factor.type !== "hotp" || factor.status !== "active") throw new ServiceError("resync_not_supported");
	// D-7, as for every proof (services/proofs.ts prepareProof): a node with a skewed clock attempts nothing.
	if (!deps.clockTrusted()) throw new ServiceError("clock_skew");
	const codes = resyncCodes(body.codes);
	const prepared: PreparedProof = { shape: codes === null ? { kind: "malformed" } : { kind: "hotp_resync", codes }, recoveryMatchIds: [] };

	const outcome = await deps.store.transaction(async (tx) => {
		const proof = await attemptProof(tx, deps, ctx, userId, prepared, { purpose: "resync", factorId });
		if (!proof.ok) return { error: proofError(proof) };
		const now = deps.clock().getTime();
		await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, userId, factorId, type: "factor.resynchronized", data: { type: "hotp" } });
		return { factor: (await tx.factors.find(ctx.tenantId, userId, factorId))! };
	});
	// Thrown only now, after the failed attempt has committed (R-ST-6).
	if ("error" in outcome) throw outcome.error;
	return { factor: publicFactor(outcome.factor) };
}
