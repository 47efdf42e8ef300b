import type { Keyring } from "../../core/keyring.js";
import { STRENGTH } from "../../core/proof-strength.js";
import { verifyTOTP } from "../../core/totp.js";
import { openFactorSecret, sealFactorSecret } from "../factor-secret.js";
import { candidateFactors, type Evaluation, evaluatePlan, type ProofEnv, type ProofKind, type ProofPlan, type StepEffect } from "../proof-kind.js";

/** R-OTP-11 / V-2: a typed code is exactly 6-8 ASCII digits in a JSON string; no trimming, no Unicode digits, no numbers. */
export const TYPED_CODE = /^[0-9]{6,8}$/;

export function claimTypedCode(input: { code?: unknown }): { code: string } | undefined {
	return typeof input.code === "string" && TYPED_CODE.test(input.code) ? { code: input.code } : undefined;
}

/**
 * TOTP (RFC 6238): the code is checked against each candidate factor's secret within the tenant's window, and
 * the matched time step is consumed by a conditional update whose row count is the decision (R-OTP-1, V-3): a
 * confirm activates the factor with it, a verify raises last_used_step past it.
 */
export const totp = {
	method: "totp",
	presentation: "code",
	fields: ["code"],
	claim: claimTypedCode,
	strength: () => STRENGTH.otp,
	evaluate(tx, env, presented, prepared, scope): Promise<Evaluation> {
		return evaluatePlan(tx, env, scope, totp.plan(env, presented, prepared, scope));
	},
	plan(env, { code }, _prepared, scope): ProofPlan {
		const effects: StepEffect[] = [];
		let checked = 0;
		for (const factor of candidateFactors(scope, "totp")) {
			if (factor.digits !== code.length || factor.secret_envelope === null || factor.period === null || factor.algorithm === null) continue;
			checked += 1;
			const key = openFactorSecret(env.keyring, factor, factor.secret_envelope);
			const step = verifyTOTP({
				key,
				code,
				nowInMilliseconds: scope.now,
				periodInSeconds: factor.period,
				digits: factor.digits,
				algorithm: factor.algorithm,
				windowInSteps: env.settings.totp.window,
			});
			key.fill(0);
			if (step === null) continue;
			// Consumed later by a conditional update whose row count is the decision (R-OTP-1, V-3).
			effects.push({ factor, step: Number(step), proven: { method: "totp", factorId: factor.id } });
		}
		// V-12a: no candidate (an unknown id, no active TOTP factor, other digits): one decoy secret is opened and
		// checked the same way, so the answer takes as long as a user's with one factor. Its result is ignored.
		if (checked === 0) checkDecoy(env, code, scope.now);
		// Every matched step found spent: a replay of the last one tried.
		const last = effects[effects.length - 1];
		return { effects, failure: last === undefined ? { ok: false, reason: "invalid" } : { ok: false, reason: "replay", factorId: last.factor.id } };
	},
} satisfies ProofKind<{ code: string }, never>;

/** One sealed random secret per key ring, opened like a factor's by checkDecoy. */
const decoySecrets = new WeakMap<Keyring, { row: { tenant_id: string; user_id: string; id: string }; envelope: string }>();

function checkDecoy(env: ProofEnv, code: string, now: number): void {
	const { keyring } = env;
	let decoy = decoySecrets.get(keyring);
	if (decoy === undefined) {
		const row = { tenant_id: "decoy", user_id: "decoy", id: "fac_decoy" };
		const secret = env.random(20);
		decoy = { row, envelope: sealFactorSecret(keyring, env.random, row, secret) };
		secret.fill(0);
		decoySecrets.set(keyring, decoy);
	}
	const key = openFactorSecret(keyring, decoy.row, decoy.envelope);
	const { totp: policy } = env.settings;
	verifyTOTP({ key, code, nowInMilliseconds: now, periodInSeconds: policy.period, digits: code.length, algorithm: policy.algorithm, windowInSteps: policy.window });
	key.fill(0);
}
