import type { ActionValue } from "./action-hash.js";
import type { TwofoldClient } from "./client.js";
import { LOGGED_REASONS, type RejectionReason } from "./rejection-reason.js";
import { TwofoldError } from "./twofold-error.js";
import { checkCodeOptions, checkStepUpOptions } from "./validate-options.js";
import { AssertionError, type AssertionVerifier, createVerifier, type StepUpClaims, type VerifierOptions } from "./verify-assertion.js";

/** Default header carrying the assertion: independent of Authorization, which stays the application's own. */
export const ASSERTION_HEADER = "twofold-assertion";
/** Default header carrying a code in header mode (the classic API-2FA design). */
export const CODE_HEADER = "x-2fa-code";

/** What the middleware needs to know about a request, from the application. */
export interface RequestFacts<Request> {
	/** The user this request acts for, from the application's own login; undefined means not logged in. */
	userId(request: Request): string | undefined | Promise<string | undefined>;
	/** The operation performed, when assertions must be bound to it (see requestAction). */
	action?(request: Request): ActionValue | undefined | Promise<ActionValue | undefined>;
}

export interface StepUpOptions<Request> extends VerifierOptions, RequestFacts<Request> {
	/** Seconds since the second factor was verified (RFC 9470 max_age). Default 300. */
	maxAge?: number;
	/** Acceptable acr values, announced in the challenge. Default: DEFAULT_ACR_VALUES, every level but email codes (R-EM-1). */
	acrValues?: readonly string[];
	header?: string;
	/**
	 * The client that spends each accepted assertion with Twofold (POST /v1/assertions/redeem, R-AS-5), with a
	 * default-scope API key of the same tenant. Required when `action` is set, unless `singleUse: false`.
	 */
	redeemWith?: TwofoldClient;
	/**
	 * Whether each accepted assertion is spent, so that it approves one request. Default: true when `action` or
	 * `redeemWith` is set (an action-bound assertion approves one operation), false otherwise (an unbound
	 * assertion is good for any number of requests until maxAge, like a fresh login). `false` with an `action`
	 * lets whoever holds the assertion (a log, a proxy, a browser extension) repeat the same request until the
	 * assertion expires (5 minutes by default): choose it only for operations that are harmless to repeat.
	 */
	singleUse?: boolean;
	/**
	 * Called for every refused request with the precise reason (the client's answer stays coarse). Use it to
	 * count refusals or log them in your own format. It must not throw; what it returns is ignored.
	 */
	onRejected?: (reason: RejectionReason, request: Request, detail: RejectionDetail) => void;
	/**
	 * Where refusals that point at the configuration or an outage (LOGGED_REASONS: issuer_mismatch,
	 * audience_mismatch, wrong_tenant, redeem_refused, jwks_unavailable, twofold_unavailable) are reported with
	 * warn. Default console; false for none.
	 */
	logger?: StepUpLogger | false;
}

/** What onRejected learns beyond the reason: the status answered, and a message naming what differed (no token, no key). */
export interface RejectionDetail {
	status: number;
	message: string;
}

/** The one method the middleware logs with: console, pino and most loggers have it. */
export interface StepUpLogger {
	warn(message: string): void;
}

export interface CodeOptions<Request> extends RequestFacts<Request> {
	client: TwofoldClient;
	header?: string;
}

export type Decision =
	| { ok: true; claims?: StepUpClaims }
	| { ok: false; status: number; headers: Record<string, string>; body: { error: { code: string; message: string } } };

type HeaderReader = (name: string) => string | undefined;

const quoted = (text: string): string => `"${text.replace(/["\\]/g, "")}"`;

/** RFC 9470 §3: the challenge telling the client which authentication level and freshness to come back with. */
export function stepUpChallenge(description: string, options: { acrValues?: readonly string[]; maxAge?: number }): string {
	const parts = [`Bearer error="insufficient_user_authentication"`, `error_description=${quoted(description)}`];
	if (options.acrValues !== undefined && options.acrValues.length > 0) parts.push(`acr_values=${quoted(options.acrValues.join(" "))}`);
	parts.push(`max_age=${options.maxAge ?? 300}`);
	return parts.join(", ");
}

const DESCRIPTIONS: Record<string, string> = {
	missing: "A fresh second-factor assertion is required",
	invalid: "The second-factor assertion is not valid",
	expired: "The second-factor assertion has expired",
	too_old: "The second factor must be verified again",
	wrong_user: "The second-factor assertion is for another user",
	wrong_action: "The second-factor assertion approves another action",
	outdated_action_format: "The second-factor assertion was requested by an older SDK: update it and verify again",
	insufficient_acr: "A stronger second factor is required",
	redeemed: "The second-factor assertion was used already",
	no_user: "Log in first",
};

/** The answer when Twofold or its JWKS cannot be reached: the request is not let through, and no new step-up is asked for. */
const UNAVAILABLE = { code: "step_up_unavailable", message: "The second factor cannot be checked right now: try again shortly" };

/** The reasons answered with 503: the assertion may be good, so the client retries it rather than stepping up again. */
const OUTAGES: ReadonlySet<RejectionReason> = new Set<RejectionReason>(["jwks_unavailable", "twofold_unavailable"]);

/** A failed redeem, as a reason: spent already, refused, or Twofold not answering (fail closed). */
function redeemRefusal(error: unknown): { reason: RejectionReason; message: string } {
	if (error instanceof TwofoldError && error.code === "assertion_redeemed") return { reason: "redeemed", message: "Twofold has spent this assertion already (assertion_redeemed)" };
	if (error instanceof TwofoldError && error.code === "invalid_assertion") {
		return { reason: "redeem_refused", message: "Twofold would not spend the assertion (invalid_assertion): it expired by Twofold's clock, or redeemWith's API key is another tenant's than the tenant option" };
	}
	if (error instanceof TwofoldError && error.status === 401) return { reason: "twofold_unavailable", message: "redeeming the assertion failed: Twofold refused redeemWith's API key (401 unauthorized)" };
	if (error instanceof TwofoldError) return { reason: "twofold_unavailable", message: `redeeming the assertion failed: Twofold answered ${error.status} ${error.code}` };
	const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
	return { reason: "twofold_unavailable", message: `redeeming the assertion failed: Twofold could not be reached (${error instanceof Error ? error.message : String(error)}${cause})` };
}

/** Standard mode: the request must carry a valid, fresh assertion for its user (and action). */
export function stepUpDecider<Request>(options: StepUpOptions<Request>): (request: Request, header: HeaderReader) => Promise<Decision> {
	checkStepUpOptions(options, "requireStepUp");
	// An action-bound assertion approves one operation: spend it by default, so the same request cannot be
	// replayed within its lifetime (R-AS-5, issue 13). Without a client that is a startup error, not a silent gap.
	const singleUse = options.singleUse ?? (options.action !== undefined || options.redeemWith !== undefined);
	if (singleUse && options.redeemWith === undefined) {
		throw new TypeError(
			options.action !== undefined
				? 'requireStepUp: "action" binds each assertion to one operation, which it must then approve once: pass "redeemWith" (a TwofoldClient with a default-scope API key) so the middleware spends it, or "singleUse: false" to accept it again until it expires (a replay risk, docs/assertions.md#single-use)'
				: 'requireStepUp: "singleUse: true" spends each assertion with Twofold: pass "redeemWith" (a TwofoldClient with a default-scope API key)',
		);
	}
	const verifier: AssertionVerifier = createVerifier(options);
	const headerName = (options.header ?? ASSERTION_HEADER).toLowerCase();
	const logger = options.logger === undefined ? console : options.logger;
	const refuse = (request: Request, reason: RejectionReason, message: string): Decision => {
		const outage = OUTAGES.has(reason);
		const status = outage ? 503 : 401;
		if (logger !== false && LOGGED_REASONS.has(reason)) logger.warn(`twofold step-up refused a request (${reason}): ${message}`);
		try {
			options.onRejected?.(reason, request, { status, message });
		} catch (error) {
			// A reporting hook that fails must not turn a refusal into an error page, or into a pass.
			if (logger !== false) logger.warn(`twofold step-up: onRejected threw (${error instanceof Error ? error.message : String(error)})`);
		}
		if (outage) return { ok: false, status, headers: {}, body: { error: UNAVAILABLE } };
		// The client learns only the coarse description (RFC 6750 §3): the precise reason can describe our configuration.
		const description = DESCRIPTIONS[reason] ?? DESCRIPTIONS.invalid!;
		return {
			ok: false,
			status,
			headers: { "www-authenticate": stepUpChallenge(description, options) },
			body: { error: { code: "insufficient_user_authentication", message: description } },
		};
	};
	return async (request, header) => {
		const userId = await options.userId(request);
		if (userId === undefined) return refuse(request, "no_user", "the userId option returned undefined: the request is not logged in");
		const action = options.action === undefined ? undefined : await options.action(request);
		const token = header(headerName);
		let claims: StepUpClaims;
		try {
			claims = await verifier.verify(token, {
				userId,
				...(options.maxAge === undefined ? {} : { maxAge: options.maxAge }),
				...(options.acrValues === undefined ? {} : { acrValues: options.acrValues }),
				...(action === undefined ? {} : { action }),
			});
		} catch (error) {
			if (error instanceof AssertionError) return refuse(request, error.reason, error.message);
			throw error;
		}
		if (singleUse) {
			try {
				await options.redeemWith!.redeemAssertion(token!);
			} catch (error) {
				// Twofold unreachable: fail closed, never let the request through (503, see OUTAGES).
				const { reason, message } = redeemRefusal(error);
				return refuse(request, reason, message);
			}
		}
		return { ok: true, claims };
	};
}

/**
 * Header mode: the request carries the code itself; Twofold verifies it for
 * the request's user, once. Refusals say `X-2FA: required`; throttling and
 * lockout pass Twofold's status through; Twofold unreachable fails closed.
 */
export function codeDecider<Request>(options: CodeOptions<Request>): (request: Request, header: HeaderReader) => Promise<Decision> {
	checkCodeOptions(options, "requireCode");
	const headerName = (options.header ?? CODE_HEADER).toLowerCase();
	const refuse = (status: number, code: string, message: string, extra: Record<string, string> = {}): Decision => ({
		ok: false,
		status,
		headers: { "x-2fa": "required", ...extra },
		body: { error: { code, message } },
	});
	return async (request, header) => {
		const userId = await options.userId(request);
		if (userId === undefined) return refuse(401, "unauthorized", "Log in first");
		const code = header(headerName);
		if (code === undefined || code.length === 0) return refuse(401, "code_required", `Send a current code in the ${headerName} header`);
		const action = options.action === undefined ? undefined : await options.action(request);
		try {
			await options.client.verify(userId, { code, ...(action === undefined ? {} : { action: action as { [key: string]: ActionValue } }) });
			return { ok: true };
		} catch (error) {
			if (!(error instanceof TwofoldError)) throw error;
			if (error.code === "too_many_attempts") return refuse(429, error.code, error.message, { "retry-after": String(error.retryAfterSeconds ?? 1) });
			if (error.code === "locked") return refuse(423, error.code, error.message);
			if (error.status >= 500) throw error;
			return refuse(401, "invalid_code", "The code is not valid");
		}
	};
}
