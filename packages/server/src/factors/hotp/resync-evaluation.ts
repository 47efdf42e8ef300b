import { resyncHOTP } from "../../core/hotp-window.js";
import type { ServiceDeps } from "../../services/deps.js";
import { openFactorSecret } from "../../services/factor-secret.js";
import type { TenantContext } from "../../services/tenant-context.js";
import type { Store } from "../../store/store.js";
import type { FactorTable } from "../../store/tables.js";

/** What a resync proof evaluates to, in the shape services/proofs.ts's evaluate returns. */
export type HOTPResyncEvaluation =
	| { ok: true; method: "hotp"; factor: FactorTable }
	| { ok: false; reason: "invalid" }
	| { ok: false; reason: "replay"; factorId: string };

/** Two codes, 6-8 ASCII digits each and of one length, as a JSON array: anything else is a malformed (counted) attempt (V-2). */
export function resyncCodes(codes: unknown): readonly [string, string] | null {
	if (!Array.isArray(codes) || codes.length !== 2) return null;
	const [first, second] = codes as unknown[];
	if (typeof first !== "string" || typeof second !== "string" || !/^[0-9]{6,8}$/.test(first) || !/^[0-9]{6,8}$/.test(second)) return null;
	return first.length === second.length ? [first, second] : null;
}

/**
 * RFC 4226 §7.4 resynchronization, inside the attempt's transaction (services/proofs.ts, purpose "resync"): the
 * factor as this transaction holds it, two consecutive codes within last+1 … last+resync_window (core/hotp-window.ts),
 * and the counter set to c+1 by the same conditional update as a verify (last_used_step < c+1), so a pair of codes
 * resynchronizes once and a code at or below the new counter never works again (R-OTP-1).
 */
export async function evaluateHOTPResync(
	tx: Store,
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	userFactors: FactorTable[],
	factorId: string | undefined,
	codes: readonly [string, string],
	now: number,
): Promise<HOTPResyncEvaluation> {
	const factor = userFactors.find((f) => f.id === factorId && f.type === "hotp" && f.status === "active");
	if (factor === undefined || factor.secret_envelope === null || factor.algorithm === null || factor.digits !== codes[0].length) return { ok: false, reason: "invalid" };
	const key = openFactorSecret(deps.keyring, factor, factor.secret_envelope);
	const counter = resyncHOTP({
		key,
		codes,
		digits: factor.digits,
		algorithm: factor.algorithm,
		lastUsed: Number(factor.last_used_step),
		window: ctx.settings.hotp.resync_window,
	});
	key.fill(0);
	if (counter === null) return { ok: false, reason: "invalid" };
	if (!(await tx.factors.consumeStep(ctx.tenantId, userId, factor.id, counter, now))) return { ok: false, reason: "replay", factorId: factor.id };
	return { ok: true, method: "hotp", factor };
}
