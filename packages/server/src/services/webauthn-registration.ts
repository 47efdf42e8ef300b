import { generateId } from "../core/id.js";
import { hasTrustAnchors } from "../factors/attestation.js";
import {
	authenticationOptions,
	CEREMONY_TIMEOUT_MS,
	CHALLENGE_BYTES,
	checkRegistration,
	registrationOptions,
	relyingParty,
	type RegisteredCredential,
	type RelyingParty,
} from "../factors/webauthn.js";
import type { Store } from "../store/store.js";
import type { ChallengeTable, FactorTable } from "../store/tables.js";
import { isLocked } from "./attempt-budget.js";
import { logCeremonyRefusal } from "./ceremony-refusal-log.js";
import type { ServiceDeps } from "./deps.js";
import { insertPendingFactor, prepareBinding, publicFactor, type PublicFactor } from "./factors.js";
import type { ProofInput, RegistrationProof } from "./proofs.js";
import { ServiceError } from "./service-error.js";
import type { TenantContext } from "./tenant-context.js";

/** WebAuthn factors: registration (enroll + confirm) and authentication challenges. Ceremony checks: factors/webauthn.ts. */

function requireRelyingParty(ctx: TenantContext): RelyingParty {
	const rp = relyingParty(ctx.settings.webauthn);
	if (rp === null) throw new ServiceError("webauthn_not_configured");
	return rp;
}

/** "direct" on a node without trust anchors (the operator removed them since): refused before the user is asked for a key. */
function requireTrustForDirect(deps: ServiceDeps, rp: RelyingParty): void {
	if (rp.attestation === "direct" && !hasTrustAnchors(deps.attestationTrust)) throw new ServiceError("attestation_not_configured");
}

const credentialHints = (rows: { credential_id: string; transports: string }[]) =>
	rows.map((row) => ({ id: row.credential_id, transports: JSON.parse(row.transports) as string[] }));

function newChallenge(deps: ServiceDeps, ctx: TenantContext, userId: string, now: number, fields: Pick<ChallengeTable, "ceremony" | "factor_id" | "user_handle">) {
	// R-WA-2: 32 random bytes, single use, at most five minutes.
	const bytes = deps.random(CHALLENGE_BYTES);
	const row: ChallengeTable = {
		tenant_id: ctx.tenantId,
		user_id: userId,
		id: generateId("chl", deps.random),
		challenge: Buffer.from(bytes).toString("base64url"),
		created_at: now,
		expires_at: now + CEREMONY_TIMEOUT_MS,
		consumed_at: null,
		...fields,
	};
	return { bytes, row };
}

/** POST /v1/users/{id}/factors {"type": "webauthn"}: a pending factor and the creation options for the browser. */
export async function enrollWebAuthn(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	input: ProofInput & { label?: string },
): Promise<{ factor: PublicFactor; webauthn: { options: unknown } }> {
	const rp = requireRelyingParty(ctx);
	requireTrustForDirect(deps, rp);
	const binding = await prepareBinding(deps, ctx, userId, input);
	const now = deps.clock().getTime();
	const row: FactorTable = {
		id: generateId("fac", deps.random),
		tenant_id: ctx.tenantId,
		user_id: userId,
		type: "webauthn",
		status: "pending",
		label: input.label ?? "Security key",
		secret_envelope: null,
		algorithm: null,
		digits: null,
		period: null,
		last_used_step: -1,
		created_at: now,
		// The ceremony's own limit, not the TOTP one: the challenge dies with it.
		expires_at: now + CEREMONY_TIMEOUT_MS,
		activated_at: null,
		last_used_at: null,
		deleted_at: null,
	};
	// A random handle per registration: the authenticator never learns the application's user id.
	const userHandle = deps.random(32);
	const { bytes, row: challenge } = newChallenge(deps, ctx, userId, now, {
		ceremony: "registration",
		factor_id: row.id,
		user_handle: Buffer.from(userHandle).toString("base64url"),
	});
	const existing = await deps.store.webauthnCredentials.listForUser(ctx.tenantId, userId);
	const options = await registrationOptions(rp, { challenge: bytes, userHandle, userName: row.label, exclude: credentialHints(existing) });
	await insertPendingFactor(deps, ctx, userId, binding, row, async (tx) => {
		await tx.challenges.deleteStale(ctx.tenantId, userId, now);
		await tx.challenges.insert(challenge);
	});
	return { factor: publicFactor(row), webauthn: { options } };
}

export interface PreparedRegistration {
	challenge: ChallengeTable | undefined;
	registered: RegisteredCredential | null;
}

/** Outside the transaction: find the factor's challenge and run the ceremony checks (async crypto). */
export async function prepareRegistration(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	factor: FactorTable,
	credential: unknown,
): Promise<PreparedRegistration> {
	const rp = requireRelyingParty(ctx);
	const challenge = await deps.store.challenges.findRegistration(ctx.tenantId, userId, factor.id);
	if (challenge === undefined || credential === undefined) return { challenge, registered: null };
	const checked = await checkRegistration(rp, credential, challenge.challenge, deps.attestationTrust);
	if (!checked.ok) logCeremonyRefusal(deps, ctx.tenantId, userId, "registration", checked);
	return { challenge, registered: checked.ok ? checked.credential : null };
}

/**
 * In the transaction: consume the challenge whatever the outcome (R-WA-2), bind the
 * credential id unless it is bound anywhere (R-WA-6), then activate the factor with it.
 * The insert, not a read before it, decides a tie: two registrations of one credential
 * at once on PostgreSQL both read "free", and the unique index lets one in.
 */
export async function completeRegistration(
	tx: Store,
	ctx: TenantContext,
	userId: string,
	factor: FactorTable,
	prepared: PreparedRegistration,
	now: number,
): Promise<"ok" | "invalid_credential" | "credential_exists" | "factor_expired"> {
	const { challenge, registered } = prepared;
	if (challenge === undefined) return "invalid_credential";
	if (!(await tx.challenges.consume(ctx.tenantId, userId, challenge.id, "registration", now))) return "invalid_credential";
	if (registered === null) return "invalid_credential";
	const bound = await tx.webauthnCredentials.insert({
		tenant_id: ctx.tenantId,
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
	if (!(await tx.factors.activate(ctx.tenantId, userId, factor.id, -1, now))) {
		await tx.webauthnCredentials.remove(ctx.tenantId, userId, factor.id);
		return "factor_expired";
	}
	return "ok";
}

/** The registration as the proof of a confirm, completed inside attemptProof after the budget check. */
export function registrationProof(ctx: TenantContext, userId: string, factor: FactorTable, prepared: PreparedRegistration): RegistrationProof {
	return async (tx, now) => {
		const completed = await completeRegistration(tx, ctx, userId, factor, prepared, now);
		if (completed !== "ok") return { ok: false, refusal: completed };
		const registered = prepared.registered!;
		// Device-bound (RFC 8176 hwk): a verified attestation chain (V-15), single-device and not backed up; anything
		// else, a synced passkey included, is a software-held key (swk).
		const deviceBound = registered.attested && registered.deviceType === "singleDevice" && !registered.backedUp;
		return { ok: true, factor, key: { deviceBound, userVerified: registered.userVerified } };
	};
}

/** POST /v1/users/{id}/challenges {"type": "webauthn"}: request options listing the user's active credentials. */
export async function createWebAuthnChallenge(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
): Promise<{ challenge: { id: string; expires_at: string }; webauthn: { options: unknown } }> {
	const rp = requireRelyingParty(ctx);
	const factors = await deps.store.factors.listForUser(ctx.tenantId, userId);
	const active = new Set(factors.filter((f) => f.type === "webauthn" && f.status === "active").map((f) => f.id));
	const credentials = (await deps.store.webauthnCredentials.listForUser(ctx.tenantId, userId)).filter((c) => active.has(c.factor_id));
	if (credentials.length === 0) throw new ServiceError("no_webauthn_factor");
	const now = deps.clock().getTime();
	const { bytes, row } = newChallenge(deps, ctx, userId, now, { ceremony: "authentication", factor_id: null, user_handle: null });
	const options = await authenticationOptions(rp, { challenge: bytes, allow: credentialHints(credentials) });
	await deps.store.transaction(async (tx) => {
		// A locked user gets the locked error and no challenge, as for an email code (R-EM-5, R-OTP-6).
		const user = await tx.users.find(ctx.tenantId, userId);
		if (user !== undefined && isLocked(user)) throw new ServiceError("locked");
		await tx.challenges.deleteStale(ctx.tenantId, userId, now);
		await tx.challenges.insert(row);
	});
	return { challenge: { id: row.id, expires_at: new Date(row.expires_at).toISOString() }, webauthn: { options } };
}
