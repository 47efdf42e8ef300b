import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { type ActionValue, actionHash } from "./action-hash.js";
import { formatOneHashes, isRequestAction } from "./request-action.js";

/**
 * Checking a Twofold step-up assertion in the application's own API, with the
 * checks of R-AS-1/R-AS-2: an algorithm allow-list (so `alg: none` and HS256
 * signed with a public key never verify), keys only from Twofold's JWKS (the
 * token's jku, jwk and x5u headers are never used), explicit typ, iss, aud,
 * exp/nbf, the claims an assertion must have, freshness by auth_time, and the
 * action it approves.
 */
export const ASSERTION_TYP = "twofold-assertion+jwt";
export const ALGORITHMS = ["EdDSA", "ES256"];
const REQUIRED_CLAIMS = ["iss", "sub", "aud", "iat", "exp", "auth_time", "jti", "amr", "acr"];

/** Twofold's acr levels, strongest first (docs/assertions.md). */
export const ACR = {
	phishingResistant: "urn:twofold:acr:phr",
	otp: "urn:twofold:acr:otp",
	recoveryCode: "urn:twofold:acr:rcode",
	/** An email code: low assurance, never a second factor (NIST 800-63B, R-EM-1). */
	email: "urn:twofold:acr:email",
} as const;

/**
 * What a check accepts when it names no acrValues: every second factor, and not an email code. A route that
 * accepts email-code assertions says so: `acrValues: [...DEFAULT_ACR_VALUES, ACR.email]`. An acr the SDK does
 * not know is refused too, so a new low level added later is never let through by default.
 */
export const DEFAULT_ACR_VALUES: readonly string[] = [ACR.phishingResistant, ACR.otp, ACR.recoveryCode];

export interface StepUpClaims extends JWTPayload {
	sub: string;
	aud: string;
	tid: string;
	auth_time: number;
	jti: string;
	amr: string[];
	acr: string;
	factor_id?: string;
	action_hash?: string;
}

export type AssertionFailure =
	| "missing"
	| "invalid" // not a well-formed, well-signed Twofold assertion for this issuer and audience
	| "expired"
	| "too_old" // auth_time older than maxAge (RFC 9470 max_age)
	| "wrong_user"
	| "wrong_action"
	| "outdated_action_format" // bound to the same request in an older requestAction format (an older SDK in the page)
	| "insufficient_acr";

export class AssertionError extends Error {
	override readonly name = "AssertionError";
	constructor(
		readonly reason: AssertionFailure,
		message: string,
	) {
		super(message);
	}
}

export interface VerifierOptions {
	/** Twofold's base URL: the `iss` of its assertions. */
	issuer: string;
	/** Your tenant id: the assertion's `tid` must be it, whatever its audience. */
	tenant: string;
	/** The `aud` required; default the tenant id. Set it when your verifies name an audience (one per API). */
	audience?: string;
	/** Defaults to `${issuer}/.well-known/jwks.json`. */
	jwksUrl?: string;
	/** A key set of your own (tests, pinned keys); replaces the remote JWKS. */
	keys?: JWTVerifyGetKey;
	/** Seconds of clock difference tolerated for exp, nbf and iat. Default 5. */
	clockTolerance?: number;
	/** The least time between two JWKS fetches (an unknown kid triggers one). Default 30 s. */
	jwksCooldownMs?: number;
	/** The verifier's clock; default the system clock (tests that simulate time pass theirs). */
	now?: () => Date;
}

export interface CheckOptions {
	/** The newest auth_time accepted, in seconds ago. Default 300 (R-AS-3). */
	maxAge?: number;
	/** The user the request is for: the assertion's sub must be this user. */
	userId?: string;
	/** The operation being approved; required when the assertion carries an action_hash. */
	action?: ActionValue;
	/** Acceptable acr values (for example only the phishing-resistant level). Default: DEFAULT_ACR_VALUES (not email). */
	acrValues?: readonly string[];
	/** For tests: the time to check against. */
	currentDate?: Date;
}

export interface AssertionVerifier {
	verify(token: string | undefined | null, options?: CheckOptions): Promise<StepUpClaims>;
}

/** A verifier holding the JWKS cache: it refetches on an unknown kid (a rotation), at most every 30 s. */
export function createVerifier(options: VerifierOptions): AssertionVerifier {
	const issuer = options.issuer.replace(/\/+$/, "");
	const keys = options.keys ?? createRemoteJWKSet(new URL(options.jwksUrl ?? `${issuer}/.well-known/jwks.json`), {
			cooldownDuration: options.jwksCooldownMs ?? 30_000,
			cacheMaxAge: 600_000,
		});
	return {
		async verify(token, check = {}) {
			if (typeof token !== "string" || token.length === 0) throw new AssertionError("missing", "no step-up assertion");
			const currentDate = check.currentDate ?? options.now?.();
			let payload: JWTPayload;
			try {
				({ payload } = await jwtVerify(token, keys, {
					issuer,
					audience: options.audience ?? options.tenant,
					algorithms: ALGORITHMS,
					typ: ASSERTION_TYP,
					requiredClaims: REQUIRED_CLAIMS,
					clockTolerance: options.clockTolerance ?? 5,
					...(currentDate === undefined ? {} : { currentDate }),
				}));
			} catch (error) {
				const code = (error as { code?: string }).code;
				if (code === "ERR_JWT_EXPIRED") throw new AssertionError("expired", "the assertion has expired");
				throw new AssertionError("invalid", `the assertion is not valid (${code ?? "malformed"})`);
			}
			const claims = payload as StepUpClaims;
			// Audiences are names a tenant picks; two tenants may pick the same one. The tenant is what they cannot share.
			if (claims.tid !== options.tenant) throw new AssertionError("invalid", "the assertion is another tenant's");
			if (typeof claims.auth_time !== "number" || !Array.isArray(claims.amr) || typeof claims.acr !== "string" || typeof claims.sub !== "string") {
				throw new AssertionError("invalid", "the assertion's claims are malformed");
			}
			const now = (currentDate ?? new Date()).getTime() / 1000;
			const leeway = options.clockTolerance ?? 5;
			// Issued, or verified, in the future beyond the clock leeway: a signer with a wrong clock (or a forged
			// claim) would otherwise stretch the assertion's life and pass max_age (RFC 7519 §4.1.6, R-AS-3).
			if (typeof claims.iat !== "number" || claims.iat > now + leeway) throw new AssertionError("invalid", "the assertion was issued in the future");
			if (claims.auth_time > now + leeway) throw new AssertionError("invalid", "the assertion's second factor was verified in the future");
			if (claims.auth_time < now - (check.maxAge ?? 300) - leeway) throw new AssertionError("too_old", "the second factor was verified too long ago");
			if (check.userId !== undefined && claims.sub !== check.userId) throw new AssertionError("wrong_user", "the assertion is for another user");
			// Low-assurance assertions (email codes) are refused unless the route names them (R-EM-1).
			if (!(check.acrValues ?? DEFAULT_ACR_VALUES).includes(claims.acr)) throw new AssertionError("insufficient_acr", "the assertion's level is not one of those required");
			// One proof approves one operation: an action-bound assertion is good only for that action.
			if (check.action !== undefined || claims.action_hash !== undefined) {
				const expected = check.action === undefined ? undefined : await actionHash(check.action);
				if (expected === undefined || claims.action_hash !== expected) {
					if (isRequestAction(check.action) && claims.action_hash !== undefined && (await formatOneHashes(check.action)).includes(claims.action_hash)) {
						throw new AssertionError("outdated_action_format", "the assertion approves this request in an older action format (no query string): update @twofold/sdk where the page builds the action");
					}
					throw new AssertionError("wrong_action", "the assertion approves another action");
				}
			}
			return claims;
		},
	};
}

/** One-off check; for a route, keep a verifier from createVerifier so its JWKS cache is reused. */
export function verifyAssertion(token: string, options: VerifierOptions & CheckOptions): Promise<StepUpClaims> {
	return createVerifier(options).verify(token, options);
}
