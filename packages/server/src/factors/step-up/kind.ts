import type { AssertionClaims } from "../../core/assertion-claims.js";
import { strengthOfAssertion } from "../../core/proof-strength.js";
import type { ProofKind } from "../proof-kind.js";

/** How old a step-up assertion may be to authorize a factor change (R-LC-1, R-LC-4, R-RC-5): five minutes. */
const FRESH_PROOF_SECONDS = 300;

/**
 * A step-up assertion as the proof for a factor change (R-LC-1, R-LC-4, R-RC-5):
 * Twofold's own, for this tenant and user, at most five minutes old, approving
 * no particular action, from a factor that is still active (R-LC-3), strong
 * enough for the change by its acr and amr (checked by the attempt path, before
 * this: an email assertion never is), and spent here: its jti is recorded in this
 * transaction, so it authorizes one change.
 * It proves an earlier verify, so it never stands in for a verify or a confirm.
 */
export const stepUp = {
	method: "assertion",
	presentation: "assertion",
	fields: ["assertion"],
	claim(input) {
		if (input.assertion === undefined) return undefined;
		// One proof per request: a code beside an assertion is malformed, not a second chance.
		const others = input.code !== undefined || input.challenge_id !== undefined || input.credential !== undefined;
		return others ? "malformed" : { token: input.assertion };
	},
	prepare: (env, { token }) => env.readAssertion(token),
	strength: (_presented, claims) => (claims == null ? undefined : strengthOfAssertion(claims.acr, claims.amr)),
	async evaluate(tx, env, _presented, claims, scope) {
		const refused = { ok: false, reason: "invalid_assertion" } as const;
		if (scope.purpose === "verify" || scope.purpose === "confirm" || claims == null) return refused;
		if (claims.tid !== env.tenantId || claims.sub !== env.userId || claims.action_hash !== undefined) return refused;
		if (claims.auth_time < scope.now / 1000 - FRESH_PROOF_SECONDS) return refused;
		if (claims.factor_id !== undefined && !scope.factors.some((factor) => factor.id === claims.factor_id && factor.status === "active")) return refused;
		const first = await tx.redeemedAssertions.redeem({ jti: claims.jti, tenant_id: env.tenantId, user_id: env.userId, expires_at: claims.exp * 1000, redeemed_at: scope.now });
		return first ? { ok: true, proven: { method: "assertion" } } : { ok: false, reason: "replay", factorId: null, spentAssertion: true };
	},
} satisfies ProofKind<{ token: unknown }, AssertionClaims | null>;
