import { constantTimeEqual } from "../../core/constant-time.js";
import { oneTimeCodeHash } from "../../core/one-time-code.js";
import { STRENGTH } from "../../core/proof-strength.js";
import type { ProofKind } from "../proof-kind.js";

/**
 * An email code (R-EM-1…4): only to verify (low assurance never authorizes a factor change), only while the
 * tenant has email codes on, only for the challenge it was sent for, once. A wrong code leaves the challenge
 * open (the attempt budget, not the code, limits guessing); the right one is consumed by a conditional
 * update whose row count decides a race.
 */
export const emailCode = {
	method: "email",
	presentation: "email_code",
	fields: ["challenge_id"],
	claim(input) {
		if (input.challenge_id === undefined || input.credential !== undefined || input.code === undefined) return undefined;
		// It answers the challenge it was sent for (R-EM-2): exactly six ASCII digits.
		const { challenge_id: challengeId, code } = input;
		return typeof challengeId === "string" && typeof code === "string" && /^[0-9]{6}$/.test(code) ? { challengeId, code } : "malformed";
	},
	strength: () => STRENGTH.email,
	async evaluate(tx, env, { challengeId, code }, _prepared, scope) {
		if (scope.purpose !== "verify" || scope.factorId !== undefined || !env.settings.email.enabled) return { ok: false, reason: "invalid" };
		const challenge = await tx.challenges.find(env.tenantId, env.userId, challengeId);
		if (challenge === undefined || challenge.ceremony !== "email") return { ok: false, reason: "invalid" };
		// Every master key's MAC key is tried (all of them, so the time does not say which matched): a code sent
		// before a master-key rotation still checks after it.
		const binding = { tenantId: env.tenantId, userId: env.userId, challengeId: challenge.id };
		const matched = env.keyring.codeMacKeys.reduce((found, key) => constantTimeEqual(oneTimeCodeHash(key, binding, code), challenge.challenge) || found, false);
		if (!matched || challenge.expires_at <= scope.now) return { ok: false, reason: "invalid" };
		if (!(await tx.challenges.consume(env.tenantId, env.userId, challenge.id, "email", scope.now))) return { ok: false, reason: "replay", factorId: null };
		return { ok: true, proven: { method: "email" } };
	},
} satisfies ProofKind<{ challengeId: string; code: string }, never>;
