import { MAX_HOTP_RESYNC_WINDOW, resyncHOTP } from "../../core/hotp-window.js";
import { STRENGTH } from "../../core/proof-strength.js";
import { openFactorSecret } from "../factor-secret.js";
import type { ProofKind } from "../proof-kind.js";
import { TYPED_CODE } from "../totp/kind.js";

/**
 * RFC 4226 §7.4 resynchronization, the proof of POST …/factors/{id}/resync for an HOTP factor (never claimed from a
 * verify: only the factor's resync presents it). Two codes, 6-8 ASCII digits each and of one length, as a JSON
 * array; anything else is a malformed (counted) attempt (V-2). Inside the attempt's transaction: the factor as the
 * transaction holds it, two consecutive codes within last+1 … last+resync_window (core/hotp-window.ts), and the
 * counter set to c+1 by the same conditional update as a verify (last_used_step < c+1), so a pair of codes
 * resynchronizes once and a code at or below the new counter never works again (R-OTP-1).
 */
export const hotpResync = {
	method: "hotp",
	presentation: "code",
	fields: ["codes"],
	claim(input) {
		if (input.codes === undefined) return undefined;
		const { codes } = input;
		if (!Array.isArray(codes) || codes.length !== 2) return "malformed";
		const [first, second] = codes as unknown[];
		if (typeof first !== "string" || typeof second !== "string" || !TYPED_CODE.test(first) || !TYPED_CODE.test(second)) return "malformed";
		return first.length === second.length ? { codes: [first, second] as const } : "malformed";
	},
	strength: () => STRENGTH.otp,
	async evaluate(tx, env, { codes }, _prepared, scope) {
		const factor = scope.factors.find((f) => f.id === scope.factorId && f.type === "hotp" && f.status === "active");
		if (scope.purpose !== "resync" || factor === undefined || factor.secret_envelope === null || factor.algorithm === null || factor.digits !== codes[0].length) {
			return { ok: false, reason: "invalid" };
		}
		const key = openFactorSecret(env.keyring, factor, factor.secret_envelope);
		const counter = resyncHOTP({
			key,
			codes,
			digits: factor.digits,
			algorithm: factor.algorithm,
			lastUsed: Number(factor.last_used_step),
			// A token imported without its counter (issue 17) may be anywhere past 0: the widest window this code allows.
			// Two consecutive codes still have to match, so a guess stays a one-in-10^12 shot per pair of counters.
			window: Number(factor.needs_resync ?? 0) === 1 ? MAX_HOTP_RESYNC_WINDOW : env.settings.hotp.resync_window,
		});
		key.fill(0);
		if (counter === null) return { ok: false, reason: "invalid" };
		// Both codes are spent or neither: the factor row this attempt read may be older than the last verify's
		// commit (PostgreSQL re-reads only the locked user row), so the update checks the first code too (R-OTP-1).
		if (!(await tx.factors.consumeCounters(env.tenantId, env.userId, factor.id, counter - 1, counter, scope.now))) {
			return { ok: false, reason: "replay", factorId: factor.id };
		}
		return { ok: true, proven: { method: "hotp", factorId: factor.id }, factor };
	},
} satisfies ProofKind<{ codes: readonly [string, string] }, never>;
