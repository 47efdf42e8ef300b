/**
 * The claims of a step-up assertion (R-AS-1), built from what was verified.
 * Pure: the time, ids and key come from the caller.
 *
 * amr values are RFC 8176's where one fits: "otp" (TOTP, HOTP), "hwk"/"swk" (a
 * WebAuthn key held in hardware / a synced or software passkey), "user" (the
 * authenticator verified the user), "mfa" (the caller says a first factor
 * passed as well). A recovery code has no RFC 8176 value; it is "rcode".
 *
 * acr levels (documented in docs/assertions.md), strongest first; only WebAuthn
 * is phishing-resistant (R-AS-4: never above what was verified).
 */
export const ACR = {
	phishingResistant: "urn:twofold:acr:phr",
	otp: "urn:twofold:acr:otp",
	recoveryCode: "urn:twofold:acr:rcode",
	/** Low assurance: an email code is never an AAL2 authenticator (R-EM-1). */
	email: "urn:twofold:acr:email",
} as const;

/** The JWS typ (RFC 8725 §3.11 explicit typing): a verifier refuses any other JWT posing as an assertion. */
export const ASSERTION_TYP = "twofold-assertion+jwt";

/** Tenants choose 30 s to 15 min (default 5 min, R-AS-3); a retired signing key stays published this long. */
export const MAX_ASSERTION_TTL_SECONDS = 900;

export type VerifiedProof =
	| { method: "totp"; factorId: string }
	| { method: "hotp"; factorId: string }
	| { method: "webauthn"; factorId: string; deviceBound: boolean; userVerified: boolean }
	| { method: "recovery_code" }
	| { method: "email" };

export interface AssertionClaims {
	[claim: string]: unknown;
	iss: string;
	sub: string;
	aud: string;
	/** The tenant, so Twofold (redeem, factor-change proofs) and verifiers using named audiences can tell whose it is. */
	tid: string;
	iat: number;
	exp: number;
	auth_time: number;
	jti: string;
	amr: string[];
	acr: string;
	factor_id?: string;
	action_hash?: string;
}

export function amrFor(proof: VerifiedProof, firstFactorPassed: boolean): string[] {
	const amr =
		proof.method === "totp" || proof.method === "hotp"
			? ["otp"]
			: proof.method === "recovery_code"
				? ["rcode"]
				: proof.method === "email"
					? ["email"]
					: [proof.deviceBound ? "hwk" : "swk", ...(proof.userVerified ? ["user"] : [])];
	return firstFactorPassed ? [...amr, "mfa"] : amr;
}

export function acrFor(proof: VerifiedProof): string {
	const levels = { webauthn: ACR.phishingResistant, totp: ACR.otp, hotp: ACR.otp, recovery_code: ACR.recoveryCode, email: ACR.email } as const;
	return levels[proof.method];
}

export function assertionClaims(input: {
	issuer: string;
	tenantId: string;
	userId: string;
	/** Default: the tenant id. A named audience is one API of the tenant's; `tid` still names the tenant. */
	audience?: string;
	proof: VerifiedProof;
	firstFactorPassed: boolean;
	actionHash?: string;
	jti: string;
	nowInSeconds: number;
	ttlSeconds: number;
}): AssertionClaims {
	const { proof, nowInSeconds } = input;
	const claims: AssertionClaims = {
		iss: input.issuer,
		sub: input.userId,
		aud: input.audience ?? input.tenantId,
		tid: input.tenantId,
		iat: nowInSeconds,
		exp: nowInSeconds + Math.min(input.ttlSeconds, MAX_ASSERTION_TTL_SECONDS),
		auth_time: nowInSeconds,
		jti: input.jti,
		amr: amrFor(proof, input.firstFactorPassed),
		acr: acrFor(proof),
	};
	if (proof.method === "totp" || proof.method === "hotp" || proof.method === "webauthn") claims.factor_id = proof.factorId;
	if (input.actionHash !== undefined) claims.action_hash = input.actionHash;
	return claims;
}
