import type { ActionValue } from "./action-hash.js";
import type { TwofoldClient } from "./client.js";
import { TwofoldError } from "./twofold-error.js";
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
	/** Single use (R-AS-5): redeem each assertion's jti with Twofold, so it approves one request only. */
	redeemWith?: TwofoldClient;
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

/** Standard mode: the request must carry a valid, fresh assertion for its user (and action). */
export function stepUpDecider<Request>(options: StepUpOptions<Request>): (request: Request, header: HeaderReader) => Promise<Decision> {
	const verifier: AssertionVerifier = createVerifier(options);
	const headerName = (options.header ?? ASSERTION_HEADER).toLowerCase();
	const refuse = (reason: string): Decision => ({
		ok: false,
		status: 401,
		headers: { "www-authenticate": stepUpChallenge(DESCRIPTIONS[reason] ?? DESCRIPTIONS.invalid!, options) },
		body: { error: { code: "insufficient_user_authentication", message: DESCRIPTIONS[reason] ?? DESCRIPTIONS.invalid! } },
	});
	return async (request, header) => {
		const userId = await options.userId(request);
		if (userId === undefined) return refuse("no_user");
		const action = options.action === undefined ? undefined : await options.action(request);
		let claims: StepUpClaims;
		try {
			claims = await verifier.verify(header(headerName), {
				userId,
				...(options.maxAge === undefined ? {} : { maxAge: options.maxAge }),
				...(options.acrValues === undefined ? {} : { acrValues: options.acrValues }),
				...(action === undefined ? {} : { action }),
			});
		} catch (error) {
			if (error instanceof AssertionError) return refuse(error.reason);
			throw error;
		}
		if (options.redeemWith !== undefined) {
			try {
				await options.redeemWith.redeemAssertion(header(headerName)!);
			} catch (error) {
				if (error instanceof TwofoldError && (error.code === "assertion_redeemed" || error.code === "invalid_assertion")) return refuse("redeemed");
				throw error; // Twofold unreachable: fail closed (the adapter answers 5xx)
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
