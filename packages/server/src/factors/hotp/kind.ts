import { verifyHOTP, wasRecentlyUsed } from "../../core/hotp-window.js";
import { STRENGTH } from "../../core/proof-strength.js";
import { openFactorSecret } from "../factor-secret.js";
import { candidateFactors, type Evaluation, evaluatePlan, type ProofKind, type ProofPlan, type StepEffect } from "../proof-kind.js";
import { claimTypedCode } from "../totp/kind.js";

/**
 * HOTP (RFC 4226): a typed code, tried after TOTP's (same presentation), against each candidate HOTP factor:
 * counters last+1 … last+1+look_ahead (tenant hotp.look_ahead, RFC 4226 §7.4), all computed (core/hotp-window.ts,
 * V-14). A match at counter c is consumed with the same conditional update as a TOTP step,
 * `SET last_used_step = c WHERE … AND last_used_step < c`: its row count is the decision (R-OTP-1, V-3), so of 50
 * concurrent copies one advances the counter and the others find it advanced. A confirm activates the factor and
 * consumes the counter in one statement (V-1), as for TOTP. amr "otp" (RFC 8176), like TOTP. A factor imported
 * without a counter (needs_resync) is refused, whatever the code, until resynchronized: the audit trail records
 * verification.failed with reason needs_resync; the caller sees invalid_code, and the factor's view says needs_resync.
 */
export const hotp = {
	method: "hotp",
	presentation: "code",
	fields: ["code"],
	claim: claimTypedCode,
	strength: () => STRENGTH.otp,
	evaluate(tx, env, presented, prepared, scope): Promise<Evaluation> {
		return evaluatePlan(tx, env, scope, hotp.plan(env, presented, prepared, scope));
	},
	plan(env, { code }, _prepared, scope): ProofPlan {
		const effects: StepEffect[] = [];
		// The last factor, in candidate order, that saw this code recently or whose matched counter is found spent:
		// the replay reported when no effect applies.
		let replayed: string | null = null;
		let unsynchronized: string | null = null;
		for (const factor of candidateFactors(scope, "hotp")) {
			if (factor.digits !== code.length || factor.secret_envelope === null || factor.algorithm === null) continue;
			// Imported without a counter (issue 17): any code of its past would pass a look-ahead from 0, so no code
			// is checked until a resync (two consecutive codes, factors/hotp/resync.ts) has set the counter.
			if (Number(factor.needs_resync ?? 0) === 1) {
				unsynchronized = factor.id;
				continue;
			}
			const key = openFactorSecret(env.keyring, factor, factor.secret_envelope);
			const state = { key, code, digits: factor.digits, algorithm: factor.algorithm, lastUsed: Number(factor.last_used_step) };
			const { look_ahead: lookAhead } = env.settings.hotp;
			const counter = verifyHOTP({ ...state, lookAhead });
			// R-OTP-9: a code at or just below the counter is a replay, not a wrong code, in the audit trail (the
			// caller sees invalid_code either way). Checked only on a miss: a success costs nothing more.
			const replay = counter === null && wasRecentlyUsed({ ...state, lookBehind: lookAhead + 1 });
			key.fill(0);
			if (replay) replayed = factor.id;
			if (counter === null) continue;
			effects.push({ factor, step: counter, proven: { method: "hotp", factorId: factor.id } });
			replayed = factor.id;
		}
		if (replayed !== null) return { effects, failure: { ok: false, reason: "replay", factorId: replayed } };
		return { effects, failure: unsynchronized === null ? { ok: false, reason: "invalid" } : { ok: false, reason: "needs_resync", factorId: unsynchronized } };
	},
} satisfies ProofKind<{ code: string }, never>;
