import type { Store } from "../../store/store.js";
import type { ChallengeTable, FactorTable } from "../../store/tables.js";
import type { ProofEnv, ProofKind, RegistrationRefusal } from "../proof-kind.js";
import { checkRegistration, type RegisteredCredential, type RelyingParty } from "./ceremony.js";

export interface PreparedRegistration {
	challenge: ChallengeTable | undefined;
	registered: RegisteredCredential | null;
}

/** Outside the transaction: find the factor's challenge and run the ceremony checks (async crypto). */
export async function prepareRegistration(env: ProofEnv, rp: RelyingParty, factor: FactorTable, credential: unknown): Promise<PreparedRegistration> {
	const challenge = await env.store.challenges.findRegistration(factor.tenant_id, factor.user_id, factor.id);
	if (challenge === undefined || credential === undefined) return { challenge, registered: null };
	const checked = await checkRegistration(rp, credential, challenge.challenge, env.attestationTrust);
	if (!checked.ok) env.ceremonyRefused("registration", checked);
	return { challenge, registered: checked.ok ? checked.credential : null };
}

/**
 * In the transaction: consume the challenge whatever the outcome (R-WA-2), bind the
 * credential id unless it is bound anywhere (R-WA-6), then activate the factor with it.
 * The insert, not a read before it, decides a tie: two registrations of one credential
 * at once on PostgreSQL both read "free", and the unique index lets one in.
 */
async function completeRegistration(tx: Store, factor: FactorTable, prepared: PreparedRegistration, now: number): Promise<"ok" | RegistrationRefusal> {
	const { tenant_id: tenantId, user_id: userId } = factor;
	const { challenge, registered } = prepared;
	if (challenge === undefined) return "invalid_credential";
	if (!(await tx.challenges.consume(tenantId, userId, challenge.id, "registration", now))) return "invalid_credential";
	if (registered === null) return "invalid_credential";
	const bound = await tx.webauthnCredentials.insert({
		tenant_id: tenantId,
		user_id: userId,
		factor_id: factor.id,
		credential_id: registered.credentialId,
		public_key: registered.publicKey,
		sign_count: registered.counter,
		transports: JSON.stringify(registered.transports),
		user_handle: challenge.user_handle ?? "",
		backed_up: registered.backedUp ? 1 : 0,
		device_type: registered.deviceType,
		aaguid: registered.aaguid,
		attested: registered.attested ? 1 : 0,
		model: registered.model,
		created_at: now,
	});
	if (!bound) return "credential_exists";
	if (!(await tx.factors.activate(tenantId, userId, factor.id, -1, now))) {
		await tx.webauthnCredentials.remove(tenantId, userId, factor.id);
		return "factor_expired";
	}
	return "ok";
}

/**
 * Confirming a WebAuthn factor: the registration response is the proof. It is checked (challenge consumed,
 * credential bound, factor activated) inside the attempt's transaction, after the budget check, so a locked
 * user cannot confirm and a refusal counts like a wrong code (issue 12 finding 7, R-OTP-6). Never claimed from
 * a request's proof fields: only the confirm of a pending WebAuthn factor presents it (factors/webauthn/factor.ts).
 */
export const webauthnRegistration = {
	method: "webauthn",
	presentation: "registration",
	fields: [],
	clockFree: true,
	claim: () => undefined,
	strength: () => undefined,
	async evaluate(tx, _env, { factor }, prepared, scope) {
		if (prepared === undefined || scope.pendingFactorId !== factor.id) return { ok: false, reason: "registration_refused", refusal: "invalid_credential" };
		const completed = await completeRegistration(tx, factor, prepared, scope.now);
		if (completed !== "ok") return { ok: false, reason: "registration_refused", refusal: completed };
		const registered = prepared.registered!;
		// Device-bound (RFC 8176 hwk): a verified attestation chain (V-15), single-device and not backed up; anything
		// else, a synced passkey included, is a software-held key (swk).
		const deviceBound = registered.attested && registered.deviceType === "singleDevice" && !registered.backedUp;
		return { ok: true, proven: { method: "webauthn", factorId: factor.id, deviceBound, userVerified: registered.userVerified }, factor };
	},
} satisfies ProofKind<{ factor: FactorTable }, PreparedRegistration>;
