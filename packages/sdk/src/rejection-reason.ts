import { ASSERTION_ALGORITHMS, ASSERTION_TYP } from "./assertion-contract.js";

/**
 * Why a step-up check refused a request: one value per cause an integrator can act on (issue 13). The middleware
 * reports it to `onRejected` and, for the reasons in LOGGED_REASONS, to its logger; the client's 401 carries only
 * a coarse description (RFC 6750 §3, RFC 9470 §3), so a caller learns nothing about the configuration. The table
 * in docs/assertions.md lists the same values (a test keeps them in sync).
 */
export const REJECTION_REASONS = {
	no_user: "the userId option returned undefined: the request is not logged in",
	missing: "the request carries no assertion in the header",
	malformed: "not a compact JWS, or a claim is missing or of the wrong type",
	alg_not_allowed: `signed with an algorithm outside ${ASSERTION_ALGORITHMS.join(" and ")} (alg none, HS256 key confusion, R-AS-2)`,
	wrong_type: `its typ header is not ${ASSERTION_TYP}: another kind of JWT (RFC 8725 §3.11)`,
	unknown_kid: "signed by a key the JWKS does not list (a forgery, or jwksUrl points at another Twofold)",
	bad_signature: "the signature does not verify with the listed key (a changed claim, or a forgery)",
	issuer_mismatch: "its iss is not the issuer option: set issuer to Twofold's TWOFOLD_PUBLIC_URL (or the address it listens at)",
	audience_mismatch: "its aud is not the audience option (default: the tenant option)",
	wrong_tenant: "its tid is not the tenant option: another tenant's assertion, or the wrong tenant id configured",
	expired: "past its exp",
	not_yet_valid: "its nbf, iat or auth_time is in the future beyond clockTolerance",
	too_old: "its auth_time is older than maxAge (RFC 9470 max_age)",
	wrong_user: "its sub is not the user the userId option returned",
	wrong_action: "it approves another action than this request's, or the route binds no action and it does",
	outdated_action_format: "it approves this request in an older requestAction format: update the SDK where the page builds the action",
	insufficient_acr: "its acr is not one of acrValues (an email code is refused unless named, R-EM-1)",
	redeemed: "Twofold has spent it already (R-AS-5): a replay, or a second request with one approval",
	redeem_refused: "Twofold would not spend it (invalid_assertion): expired by Twofold's clock, or redeemWith's API key is another tenant's",
	jwks_unavailable: "the JWKS could not be fetched: the request is refused with 503 (fail closed)",
	twofold_unavailable: "the redeem could not reach Twofold, or Twofold refused the API key: 503 (fail closed)",
} as const;

export type RejectionReason = keyof typeof REJECTION_REASONS;

/** The reasons the verifier (createVerifier) itself gives; the middleware adds the rest. */
export type AssertionFailure = Exclude<RejectionReason, "no_user" | "redeemed" | "redeem_refused" | "twofold_unavailable">;

/**
 * Reasons that point at the configuration or an outage rather than at the user: the middleware's logger reports
 * these (console.warn unless `logger` says otherwise). Each needs a token signed with a key the JWKS lists, or
 * Twofold to be unreachable, so a stranger cannot fill the log with them; unknown_kid, which anyone can cause with
 * a made-up token, goes to onRejected only.
 */
export const LOGGED_REASONS: ReadonlySet<RejectionReason> = new Set<RejectionReason>([
	"issuer_mismatch",
	"audience_mismatch",
	"wrong_tenant",
	"redeem_refused",
	"jwks_unavailable",
	"twofold_unavailable",
]);
