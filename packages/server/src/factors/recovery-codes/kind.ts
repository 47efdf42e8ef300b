import { STRENGTH } from "../../core/proof-strength.js";
import { findMatchingRecoveryCodes, normalizeRecoveryCode, RECOVERY_CODE_COUNT } from "../../core/recovery-codes.js";
import type { ProofKind } from "../proof-kind.js";

/** Stand-ins hashed in place of missing recovery codes: a fixed salt and a hash that no scrypt output is expected to equal. */
const DECOY_RECOVERY_CODES = Array.from({ length: RECOVERY_CODE_COUNT }, (_, index) => ({
	salt: Buffer.alloc(16, index).toString("base64url"),
	hash: Buffer.alloc(32, 0).toString("base64url"),
}));

/**
 * A recovery code (R-RC-1…5): its one documented format, hyphens and case forgiven; hashed against the user's
 * unused codes before the transaction (scrypt is slow), consumed inside it by a conditional update. It never
 * confirms a new factor.
 */
export const recoveryCode = {
	method: "recovery_code",
	presentation: "recovery_code",
	fields: ["code"],
	claim(input) {
		if (typeof input.code !== "string") return undefined;
		const normalized = normalizeRecoveryCode(input.code);
		return normalized === null ? "malformed" : { normalized };
	},
	async prepare(env, { normalized }) {
		const stored = await env.store.recoveryCodes.listUnused(env.tenantId, env.userId);
		// V-12a: always a full set's worth of hashing, so the time says nothing about how many unused codes the
		// user has, or whether the id has any (a decoy's match, if one ever happened, is ignored).
		const padded = [...stored, ...DECOY_RECOVERY_CODES.slice(0, Math.max(0, RECOVERY_CODE_COUNT - stored.length))];
		const matches = (await findMatchingRecoveryCodes(normalized, padded)).filter((index) => index < stored.length);
		return matches.map((index) => stored[index]!.id);
	},
	strength: () => STRENGTH.recoveryCode,
	async evaluate(tx, env, _presented, matchIds = [], scope) {
		if (scope.pendingFactorId !== undefined) return { ok: false, reason: "invalid" };
		// Several ids can only match if the same code was issued twice; consume the first that is still unused.
		for (const id of matchIds) {
			if (await tx.recoveryCodes.consume(env.tenantId, env.userId, id, scope.now)) return { ok: true, proven: { method: "recovery_code" } };
		}
		return matchIds.length > 0 ? { ok: false, reason: "replay", factorId: null } : { ok: false, reason: "invalid" };
	},
} satisfies ProofKind<{ normalized: string }, string[]>;
