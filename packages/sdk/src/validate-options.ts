/**
 * The options of the verifier and the middleware, checked when they are created: a missing tenant or a
 * mistyped issuer is a startup error naming the option, not the same 401 on every request with nothing said
 * (issue 13). Misuse is an exception (TypeError); a refused request is a value (a Decision).
 */

type Options = Record<string, unknown>;

function fail(where: string, message: string): never {
	throw new TypeError(`${where}: ${message}`);
}

function objectOf(options: unknown, where: string): Options {
	if (typeof options !== "object" || options === null) fail(where, "takes an options object");
	return options as Options;
}

function nonEmptyString(options: Options, name: string, where: string, what: string, required: boolean): void {
	const value = options[name];
	if (value === undefined && !required) return;
	if (typeof value !== "string" || value.trim().length === 0) fail(where, `the option "${name}" ${required ? "is required" : "must be a non-empty string"}: ${what}`);
}

function httpUrl(options: Options, name: string, where: string, what: string): void {
	const value = options[name];
	if (value === undefined) return;
	let url: URL | undefined;
	try {
		url = new URL(value as string);
	} catch {
		url = undefined;
	}
	if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) fail(where, `the option "${name}" is not an http(s) URL (${JSON.stringify(value)}): ${what}`);
}

function optionalFunction(options: Options, name: string, where: string, what: string): void {
	if (options[name] !== undefined && typeof options[name] !== "function") fail(where, `the option "${name}" must be a function: ${what}`);
}

function requiredFunction(options: Options, name: string, where: string, what: string): void {
	if (typeof options[name] !== "function") fail(where, `the option "${name}" is required: ${what}`);
}

function optionalNumber(options: Options, name: string, where: string, what: string, least: number): void {
	const value = options[name];
	if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value) || value < least)) fail(where, `the option "${name}" must be a number of at least ${least}: ${what}`);
}

const ISSUER = "Twofold's base URL as its assertions carry it in iss (TWOFOLD_PUBLIC_URL, or the address Twofold listens at), e.g. http://127.0.0.1:8080";
const TENANT = "your tenant id (ten_…), which every assertion of your tenant carries in tid";

/** VerifierOptions: issuer and tenant are required; the rest are checked when present. */
export function checkVerifierOptions(input: unknown, where: string): void {
	const options = objectOf(input, where);
	nonEmptyString(options, "issuer", where, ISSUER, true);
	httpUrl(options, "issuer", where, ISSUER);
	nonEmptyString(options, "tenant", where, TENANT, true);
	nonEmptyString(options, "audience", where, "the aud your verifies name (leave it out to require the tenant id)", false);
	nonEmptyString(options, "jwksUrl", where, "where Twofold's JWKS is, default {issuer}/.well-known/jwks.json", false);
	httpUrl(options, "jwksUrl", where, "where Twofold's JWKS is, default {issuer}/.well-known/jwks.json");
	optionalFunction(options, "keys", where, "a jose key set (JWTVerifyGetKey)");
	optionalFunction(options, "now", where, "a clock returning a Date");
	optionalNumber(options, "clockTolerance", where, "seconds of clock difference tolerated", 0);
	optionalNumber(options, "jwksCooldownMs", where, "milliseconds between two JWKS fetches", 0);
}

const USER_ID = "a function returning the id of the request's logged-in user (the sub of their assertions), or undefined";
const ACTION = "a function returning the operation the request performs, usually (req) => requestAction(req)";

/** StepUpOptions beyond the verifier's: the user resolver, the route's level and freshness, single use and reporting. */
export function checkStepUpOptions(input: unknown, where: string): void {
	checkVerifierOptions(input, where);
	const options = input as Options;
	requiredFunction(options, "userId", where, USER_ID);
	optionalFunction(options, "action", where, ACTION);
	optionalNumber(options, "maxAge", where, "seconds since the second factor was verified (RFC 9470 max_age)", 0);
	const acr = options.acrValues;
	if (acr !== undefined && (!Array.isArray(acr) || acr.length === 0 || acr.some((value) => typeof value !== "string"))) {
		fail(where, `the option "acrValues" must be a non-empty list of acr values, e.g. [ACR.phishingResistant]`);
	}
	nonEmptyString(options, "header", where, "the request header carrying the assertion", false);
	const client = options.redeemWith as { redeemAssertion?: unknown } | undefined;
	if (client !== undefined && (typeof client !== "object" || client === null || typeof client.redeemAssertion !== "function")) {
		fail(where, `the option "redeemWith" must be a TwofoldClient: new TwofoldClient({ baseUrl, apiKey })`);
	}
	if (options.singleUse !== undefined && typeof options.singleUse !== "boolean") fail(where, `the option "singleUse" must be true or false`);
	optionalFunction(options, "onRejected", where, "(reason, request, detail) => void, called for every refused request");
	const logger = options.logger as { warn?: unknown } | false | undefined;
	if (logger !== undefined && logger !== false && (typeof logger !== "object" || logger === null || typeof logger.warn !== "function")) {
		fail(where, `the option "logger" must have a warn(message) method (console, pino, …), or be false`);
	}
}

/** CodeOptions: the client that verifies the code, and the user resolver. */
export function checkCodeOptions(input: unknown, where: string): void {
	const options = objectOf(input, where);
	const client = options.client as { verify?: unknown } | undefined;
	if (typeof client !== "object" || client === null || typeof client.verify !== "function") {
		fail(where, `the option "client" is required: a TwofoldClient, new TwofoldClient({ baseUrl, apiKey }), to verify codes with`);
	}
	requiredFunction(options, "userId", where, USER_ID);
	optionalFunction(options, "action", where, ACTION);
	nonEmptyString(options, "header", where, "the request header carrying the code", false);
}
