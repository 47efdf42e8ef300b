import { STRENGTH } from "../../core/proof-strength.js";
import type { ProofKind } from "../proof-kind.js";
import { checkAssertion, isCounterRegression, relyingParty } from "./ceremony.js";

interface PreparedAssertion {
	/** The challenge existed for this user and ceremony when the assertion was checked. */
	challengeFound: boolean;
	/** Present when every ceremony check passed: the factor it proves and its new counter. */
	verified?: { factorId: string; credentialId: string; newCounter: number; userVerified: boolean };
}

/**
 * A WebAuthn assertion answering an authentication challenge. The signature and ceremony checks run before the
 * transaction (they are async); nothing there decides. Inside it, the challenge is consumed first and whatever
 * follows (R-WA-2: used once, success or failure), so 50 concurrent copies of one assertion get one success;
 * then the counter is compared with the row the transaction holds and advanced by a conditional update (R-WA-3).
 */
export const webauthn = {
	method: "webauthn",
	presentation: "webauthn",
	fields: ["challenge_id", "credential"],
	claim(input) {
		if (input.challenge_id === undefined && input.credential === undefined) return undefined;
		// One proof per request: a code beside an assertion is malformed, not a second chance.
		if (input.code !== undefined || typeof input.challenge_id !== "string" || input.credential === undefined) return "malformed";
		return { challengeId: input.challenge_id, credential: input.credential };
	},
	async prepare(env, { challengeId, credential }): Promise<PreparedAssertion> {
		const challenge = await env.store.challenges.find(env.tenantId, env.userId, challengeId);
		if (challenge === undefined || challenge.ceremony !== "authentication") return { challengeFound: false };
		const rp = relyingParty(env.settings.webauthn);
		const credentialId = (credential as { id?: unknown } | null)?.id;
		if (rp === null || typeof credentialId !== "string") return { challengeFound: true };
		// Scoped to this tenant and user: another user's credential is simply not found (R-WA-6).
		const stored = await env.store.webauthnCredentials.findByCredentialId(env.tenantId, env.userId, credentialId);
		if (stored === undefined) return { challengeFound: true };
		const checked = await checkAssertion(rp, credential, challenge.challenge, {
			credentialId: stored.credential_id,
			publicKey: stored.public_key,
			transports: JSON.parse(stored.transports) as string[],
			userHandle: stored.user_handle,
		});
		if (!checked.ok) {
			env.ceremonyRefused("authentication", checked);
			return { challengeFound: true };
		}
		return {
			challengeFound: true,
			verified: { factorId: stored.factor_id, credentialId: stored.credential_id, newCounter: checked.newCounter, userVerified: checked.userVerified },
		};
	},
	// Counts as user-verified only once its ceremony checked out.
	strength: (_presented, prepared) => (prepared?.verified?.userVerified === true ? STRENGTH.phishingResistant : STRENGTH.otp),
	async evaluate(tx, env, { challengeId }, prepared, scope) {
		const { tenantId, userId } = env;
		if (scope.pendingFactorId !== undefined) return { ok: false, reason: "invalid" };
		const consumed = await tx.challenges.consume(tenantId, userId, challengeId, "authentication", scope.now);
		if (!consumed) return prepared?.challengeFound === true ? { ok: false, reason: "replay", factorId: null } : { ok: false, reason: "invalid" };
		const verified = prepared?.verified;
		if (verified === undefined) return { ok: false, reason: "invalid" };
		const factor = scope.factors.find(
			(f) => f.id === verified.factorId && f.type === "webauthn" && f.status === "active" && (scope.factorId === undefined || f.id === scope.factorId),
		);
		if (factor === undefined) return { ok: false, reason: "invalid" };
		// Read again inside the transaction: this row's counter is the one compared and advanced.
		const credential = await tx.webauthnCredentials.findByCredentialId(tenantId, userId, verified.credentialId);
		if (credential === undefined || credential.factor_id !== factor.id) return { ok: false, reason: "invalid" };
		if (isCounterRegression(credential.sign_count, verified.newCounter)) {
			// A cloned authenticator, or a replayed assertion from before the last one (R-WA-3).
			const data = { stored_counter: credential.sign_count, presented_counter: verified.newCounter };
			return { ok: false, reason: "invalid", events: [{ type: "webauthn.counter_regression", factorId: factor.id, data }] };
		}
		if (!(await tx.webauthnCredentials.advanceCounter(tenantId, userId, factor.id, credential.sign_count, verified.newCounter))) {
			return { ok: false, reason: "invalid" };
		}
		await tx.factors.touch(tenantId, userId, factor.id, scope.now);
		// Device-bound (RFC 8176 hwk): a verified attestation chain (V-15), single-device and not backed up. The flags alone
		// are the authenticator's own word; a synced passkey or an unattested key is a software-held key (swk).
		const deviceBound = credential.attested === 1 && credential.device_type === "singleDevice" && !credential.backed_up;
		return { ok: true, proven: { method: "webauthn", factorId: factor.id, deviceBound, userVerified: verified.userVerified }, factor };
	},
} satisfies ProofKind<{ challengeId: string; credential: unknown }, PreparedAssertion>;
