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
 * is phishing-resistant (R-AS-4: never above what was verified). The token's
 * contract (typ, algorithms, acr values, claims, longest lifetime) is declared
 * once for the server and the SDK in assertion-contract.ts; this module is the
 * server's side of it.
 */
import { ACR, type AssertionClaimSet, MAX_ASSERTION_TTL_SECONDS } from "./assertion-contract.js";

export { ACR, ASSERTION_TYP, MAX_ASSERTION_TTL_SECONDS } from "./assertion-contract.js";

export type VerifiedProof =
	| { method: "totp"; factorId: string }
	| { method: "hotp"; factorId: string }
	| { method: "webauthn"; factorId: string; deviceBound: boolean; userVerified: boolean }
	| { method: "recovery_code" }
	| { method: "email" };

/** An assertion's claims as Twofold signs and reads them: the contract's, and no other claim is relied on. */
export interface AssertionClaims extends AssertionClaimSet {
	[claim: string]: unknown;
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
