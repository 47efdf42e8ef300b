import { verifyHOTP } from "../../core/hotp-window.js";
import type { ServiceDeps } from "../../services/deps.js";
import { openFactorSecret } from "../../services/factor-secret.js";
import type { TenantContext } from "../../services/tenant-context.js";
import type { Store } from "../../store/store.js";
import type { FactorTable } from "../../store/tables.js";

/** skipped: not an HOTP factor this code could be for (other digits, no secret); replay: matched, but another attempt consumed it first. */
export type HOTPMatch = "skipped" | "no_match" | "accepted" | "replay";

/**
 * A 6-8 digit code against one HOTP factor, inside the attempt's transaction (services/proofs.ts calls it for each
 * candidate factor, as it checks TOTP ones): counters last+1 … last+1+look_ahead (tenant hotp.look_ahead, RFC 4226
 * §7.4), all computed (core/hotp-window.ts, V-14). A match at counter c is consumed with the same conditional update
 * as a TOTP step, `SET last_used_step = c WHERE status = … AND last_used_step < c`: its row count is the decision
 * (R-OTP-1, V-3), so of 50 concurrent copies one advances the counter and the others find it advanced. Confirming a
 * pending factor activates it and consumes the counter in one statement (V-1), as for TOTP.
 */
export async function matchHOTP(
	tx: Store,
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	factor: FactorTable,
	code: string,
	confirming: boolean,
	now: number,
): Promise<HOTPMatch> {
	if (factor.type !== "hotp" || factor.digits !== code.length || factor.secret_envelope === null || factor.algorithm === null) return "skipped";
	const key = openFactorSecret(deps.keyring, factor, factor.secret_envelope);
	const counter = verifyHOTP({
		key,
		code,
		digits: factor.digits,
		algorithm: factor.algorithm,
		lastUsed: Number(factor.last_used_step),
		lookAhead: ctx.settings.hotp.look_ahead,
	});
	key.fill(0);
	if (counter === null) return "no_match";
	const consumed = confirming
		? await tx.factors.activate(ctx.tenantId, userId, factor.id, counter, now)
		: await tx.factors.consumeStep(ctx.tenantId, userId, factor.id, counter, now);
	return consumed ? "accepted" : "replay";
}
