import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { type ActionValue, actionHash } from "./action-hash.js";
import { ACR, ASSERTION_ALGORITHMS, ASSERTION_TYP, type AssertionClaimSet, malformedClaims, REQUIRED_CLAIMS } from "./assertion-contract.js";
import { type AssertionFailure } from "./rejection-reason.js";
import { formatOneHashes, isRequestAction } from "./request-action.js";
import { checkVerifierOptions } from "./validate-options.js";

export type { AssertionFailure } from "./rejection-reason.js";

/**
 * Checking a Twofold step-up assertion in the application's own API, with the
 * checks of R-AS-1/R-AS-2: an algorithm allow-list (so `alg: none` and HS256
 * signed with a public key never verify), keys only from Twofold's JWKS (the
 * token's jku, jwk and x5u headers are never used), explicit typ, iss, aud,
 * exp/nbf, the claims an assertion must have, freshness by auth_time, and the
 * action it approves. The token itself (typ, algorithms, claims, acr levels) is
 * declared once for the SDK and the server, in assertion-contract.ts.
 */
export { ACR, ASSERTION_TYP } from "./assertion-contract.js";
export const ALGORITHMS = ASSERTION_ALGORITHMS;
/** jose checks presence; tid is left to the tenant check below, which names it (wrong_tenant), and every type to malformedClaims. */
const PRESENT_CLAIMS = Object.keys(REQUIRED_CLAIMS).filter((name) => name !== "tid");

/**
 * What a check accepts when it names no acrValues: every second factor, and not an email code. A route that
 * accepts email-code assertions says so: `acrValues: [...DEFAULT_ACR_VALUES, ACR.email]`. An acr the SDK does
 * not know is refused too, so a new low level added later is never let through by default.
 */
export const DEFAULT_ACR_VALUES: readonly string[] = [ACR.phishingResistant, ACR.otp, ACR.recoveryCode];

/** A verified assertion: the contract's claims, and any other claim jose read (typed as jose types them). */
export interface StepUpClaims extends Omit<JWTPayload, keyof AssertionClaimSet>, AssertionClaimSet {}

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

/** A JOSE error's fields the refusal reasons are read from (jose's JWTClaimValidationFailed and JOSEError). */
interface JoseFailure {
	code?: string;
	claim?: string;
	reason?: string;
	payload?: Record<string, unknown>;
}

/** A claim value for a refusal message: a JSON string, cut short (it came from the token). */
const shown = (value: unknown): string => JSON.stringify(value)?.slice(0, 120) ?? "nothing";

/** The kid a token names, for the unknown_kid message; undefined when its header does not parse. */
function kidOf(token: string): unknown {
	try {
		return decodeProtectedHeader(token).kid;
	} catch {
		return undefined;
	}
}

/**
 * jose's failure as one of our reasons, with a message naming what differed. Signature, key and algorithm
 * failures come first in jose (the claims are read only from a token whose signature verified), so the
 * claim-level reasons (issuer, audience, typ) describe a genuine Twofold assertion checked with the wrong options.
 */
function joseRefusal(error: unknown, token: string, expected: { issuer: string; audience: string; audienceFrom: string; jwksUrl: string }): AssertionError {
	const { code, claim, reason, payload } = (typeof error === "object" && error !== null ? error : {}) as JoseFailure;
	switch (code) {
		case "ERR_JWT_EXPIRED":
			return new AssertionError("expired", "the assertion has expired");
		case "ERR_JOSE_ALG_NOT_ALLOWED":
			return new AssertionError("alg_not_allowed", `the assertion's algorithm is not one of ${ALGORITHMS.join(", ")}`);
		case "ERR_JWKS_NO_MATCHING_KEY":
			return new AssertionError("unknown_kid", `the assertion's kid ${shown(kidOf(token))} is not in the JWKS at ${expected.jwksUrl}`);
		case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
		case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
			return new AssertionError("bad_signature", "the assertion's signature does not verify");
		case "ERR_JWS_INVALID":
		case "ERR_JWT_INVALID":
		case "ERR_JOSE_NOT_SUPPORTED":
			return new AssertionError("malformed", "the assertion is malformed (not a compact JWS of a JSON claims set)");
		case "ERR_JWT_CLAIM_VALIDATION_FAILED":
			if (reason === "missing" || reason === "invalid") return new AssertionError("malformed", `the assertion's claims are malformed (${claim} ${reason})`);
			if (claim === "iss") return new AssertionError("issuer_mismatch", `the assertion's iss is ${shown(payload?.iss)}, the issuer option ${shown(expected.issuer)}`);
			if (claim === "aud") return new AssertionError("audience_mismatch", `the assertion's aud is ${shown(payload?.aud)}, ${expected.audienceFrom} ${shown(expected.audience)}`);
			if (claim === "typ") return new AssertionError("wrong_type", `the assertion's typ is not ${ASSERTION_TYP}`);
			if (claim === "nbf" || claim === "iat") return new AssertionError("not_yet_valid", `the assertion's ${claim} is in the future`);
			return new AssertionError("malformed", `the assertion's claims are malformed (${claim})`);
		default:
			// No key set to check with: the JWKS did not answer, timed out, or was not a key set. Fail closed.
			return new AssertionError("jwks_unavailable", `the JWKS at ${expected.jwksUrl} could not be read (${describeCause(error)})`);
	}
}

/** An error's message and its cause's (fetch failed: connect ECONNREFUSED …), for a log line. */
function describeCause(error: unknown): string {
	if (!(error instanceof Error)) return String(error);
	const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
	return `${error.message}${cause}`;
}

/** A verifier holding the JWKS cache: it refetches on an unknown kid (a rotation), at most every 30 s. */
export function createVerifier(options: VerifierOptions): AssertionVerifier {
	// A missing or mistyped option is a startup error naming it, not a 401 on every request (issue 13).
	checkVerifierOptions(options, "createVerifier");
	const issuer = options.issuer.replace(/\/+$/, "");
	const audience = options.audience ?? options.tenant;
	const jwksUrl = options.jwksUrl ?? `${issuer}/.well-known/jwks.json`;
	const keys =
		options.keys ??
		createRemoteJWKSet(new URL(jwksUrl), {
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
					audience,
					algorithms: [...ALGORITHMS],
					typ: ASSERTION_TYP,
					requiredClaims: PRESENT_CLAIMS,
					clockTolerance: options.clockTolerance ?? 5,
					...(currentDate === undefined ? {} : { currentDate }),
				}));
			} catch (error) {
				throw joseRefusal(error, token, {
					issuer,
					audience,
					// Without an audience option the tenant id is the audience: a wrong tenant shows here first.
					audienceFrom: options.audience === undefined ? "the tenant option (the audience when none is set)" : "the audience option",
					jwksUrl: options.keys === undefined ? jwksUrl : "the keys option",
				});
			}
			const claims = payload as StepUpClaims;
			// Audiences are names a tenant picks; two tenants may pick the same one. The tenant is what they cannot share.
			if (claims.tid !== options.tenant) throw new AssertionError("wrong_tenant", `the assertion is another tenant's: its tid is ${shown(claims.tid)}, the tenant option ${shown(options.tenant)}`);
			const malformed = malformedClaims(payload);
			if (malformed.length > 0) throw new AssertionError("malformed", `the assertion's claims are malformed (${malformed.join(", ")})`);
			const now = (currentDate ?? new Date()).getTime() / 1000;
			const leeway = options.clockTolerance ?? 5;
			// Issued, or verified, in the future beyond the clock leeway: a signer with a wrong clock (or a forged
			// claim) would otherwise stretch the assertion's life and pass max_age (RFC 7519 §4.1.6, R-AS-3).
			if (claims.iat > now + leeway) throw new AssertionError("not_yet_valid", "the assertion was issued in the future");
			if (claims.auth_time > now + leeway) throw new AssertionError("not_yet_valid", "the assertion's second factor was verified in the future");
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
