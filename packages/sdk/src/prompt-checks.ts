import { type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { PromptError } from "./prompt-error.js";

/**
 * The checks of the prompt's callback, apart from any network: the redirect's parameters (RFC 9207 iss, state, an
 * OAuth error) and the id_token (OpenID Connect Core 1.0 §3.1.3.7, and Twofold's own claims). prompt.ts runs them
 * on what the browser and the token endpoint bring back; they are pure so each refusal is tested on its own.
 */

/** The acr of an id_token issued under the tenant's no-factor policy "allow": no second factor was verified. */
export const ACR_NONE = "urn:twofold:acr:none";

/** The algorithms an id_token may be signed with: RS256 (every provider's, OIDC Discovery) and EdDSA. Never the token's word. */
export const ID_TOKEN_ALGORITHMS: readonly string[] = ["RS256", "EdDSA"];

/** What start() returns for the application to keep in its own session until the callback. JSON, so any session store holds it. */
export interface PromptSession {
	/** The OAuth state: the callback must bring it back (CSRF, RFC 6749 §10.12). */
	state: string;
	/** The OpenID Connect nonce: the id_token must carry it (replay). */
	nonce: string;
	/** The PKCE verifier (RFC 7636), sent only with the code. Secret: keep it server-side. */
	codeVerifier: string;
	/** The user the prompt was started for (login_hint); the id_token's sub must be this user. */
	userId: string;
	/** The hash of the action passed to start, or null: the id_token must approve exactly this action, or none. */
	actionHash: string | null;
	/** The acr values the result may have (acrValues of start, or the default, and urn:twofold:acr:none when allowNoFactor). */
	acceptedAcr: string[];
}

/** One value of a query parameter: a parameter sent twice is refused rather than one of its values picked. */
function single(params: URLSearchParams, name: string): string | undefined {
	const values = params.getAll(name);
	if (values.length > 1) throw new PromptError("invalid_response", "invalid_response", `the callback carries ${name} ${values.length} times`);
	return values[0];
}

/** The query of the callback: a full URL, a path with its query (Express's req.originalUrl), a query string, or its parameters. */
export function callbackParameters(callback: string | URL | URLSearchParams): URLSearchParams {
	if (callback instanceof URLSearchParams) return callback;
	if (callback instanceof URL) return callback.searchParams;
	// The base only lets a path or a bare query parse; nothing but the query is read.
	return new URL(callback, "http://callback.invalid").searchParams;
}

/**
 * The authorization code of a callback, after its checks, in this order: `iss` first (RFC 9207 §2.4: an answer from
 * another provider is not read further, whatever it says), then `state` (an answer for another session, or forged,
 * is refused before its error or code is believed), then an OAuth `error`, then the code.
 */
export function checkCallback(
	callback: string | URL | URLSearchParams,
	session: Pick<PromptSession, "state">,
	provider: { issuer: string; issParameterSupported: boolean },
): string {
	// A callback with no session behind it (the app lost it, or never started one): nothing to compare the state with.
	if (typeof session?.state !== "string" || session.state.length === 0) throw new PromptError("state_mismatch", "state_mismatch", "no prompt session to check the callback against: keep what start() returned until the callback");
	const params = callbackParameters(callback);
	const iss = single(params, "iss");
	if (iss === undefined ? provider.issParameterSupported : iss !== provider.issuer) {
		throw new PromptError("issuer_mismatch", "issuer_mismatch", iss === undefined ? "the callback carries no iss, which the issuer announces (RFC 9207)" : `the callback's iss ${JSON.stringify(iss.slice(0, 200))} is not the issuer ${JSON.stringify(provider.issuer)}`);
	}
	if (single(params, "state") !== session.state) throw new PromptError("state_mismatch", "state_mismatch", "the callback's state is not the one this session started with");
	const error = single(params, "error");
	if (error !== undefined) {
		const description = single(params, "error_description");
		throw new PromptError("authorization_error", error, description === undefined ? `the prompt answered ${error}` : `the prompt answered ${error}: ${description}`);
	}
	const code = single(params, "code");
	if (code === undefined || code.length === 0) throw new PromptError("invalid_response", "invalid_response", "the callback carries neither a code nor an error");
	return code;
}

/** A verified id_token's claims: the ones Twofold sets, and any other as jose read it. */
export interface PromptIdTokenClaims extends JWTPayload {
	iss: string;
	sub: string;
	nonce: string;
	auth_time: number;
	acr: string;
	/** RFC 8176 methods; empty under the no-factor policy. */
	amr: string[];
	/** The tenant. */
	tid: string;
	/** The hash of the bound action (the claim name of Twofold's assertions), when one was bound. */
	action_hash?: string;
}

const CLAIM_TYPES = { nonce: "string", auth_time: "number", acr: "string", tid: "string" } as const;

/**
 * Verifies an id_token from the prompt's token endpoint: signature with a key of the issuer's JWKS and an algorithm
 * of the allow-list (so `alg: none` and an HMAC over a public key never pass), iss, aud (and azp when there are
 * several audiences, Core §3.1.3.7), exp and iat, then the session's nonce, user, acr and action.
 */
export async function verifyIdToken(
	idToken: string,
	keys: JWTVerifyGetKey,
	expected: { issuer: string; clientId: string; session: PromptSession; clockTolerance?: number; currentDate?: Date },
): Promise<PromptIdTokenClaims> {
	let payload: JWTPayload;
	try {
		({ payload } = await jwtVerify(idToken, keys, {
			issuer: expected.issuer,
			audience: expected.clientId,
			algorithms: [...ID_TOKEN_ALGORITHMS],
			requiredClaims: ["sub", "exp", "iat", ...Object.keys(CLAIM_TYPES)],
			clockTolerance: expected.clockTolerance ?? 5,
			...(expected.currentDate === undefined ? {} : { currentDate: expected.currentDate }),
		}));
	} catch (error) {
		// jose's message names what failed ("missing required \"tid\" claim", "unexpected \"aud\" claim value"), never a key or the token.
		const { code, message } = error instanceof Error ? (error as Error & { code?: string }) : { code: undefined, message: String(error) };
		throw new PromptError("invalid_id_token", "invalid_id_token", `the id_token does not verify (${code === undefined ? "" : `${code}: `}${message})`);
	}
	if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== expected.clientId) {
		throw new PromptError("invalid_id_token", "invalid_id_token", "the id_token has several audiences and its azp is not this client");
	}
	for (const [name, type] of Object.entries(CLAIM_TYPES)) {
		if (typeof payload[name] !== type) throw new PromptError("invalid_id_token", "invalid_id_token", `the id_token's ${name} is not a ${type}`);
	}
	// Absent and empty both mean no method (the no-factor policy); anything else must be RFC 8176's list of strings.
	const amr = payload.amr ?? [];
	if (!Array.isArray(amr) || amr.some((item) => typeof item !== "string")) throw new PromptError("invalid_id_token", "invalid_id_token", "the id_token's amr is not a list of strings");
	if (payload.action_hash !== undefined && typeof payload.action_hash !== "string") throw new PromptError("invalid_id_token", "invalid_id_token", "the id_token's action_hash is not a string");
	const claims = { ...payload, amr } as PromptIdTokenClaims;

	const { session } = expected;
	if (claims.nonce !== session.nonce) throw new PromptError("nonce_mismatch", "nonce_mismatch", "the id_token's nonce is not the one this session started with");
	if (claims.sub !== session.userId) throw new PromptError("wrong_user", "wrong_user", "the id_token is for another user than the one the prompt was started for");
	if (!session.acceptedAcr.includes(claims.acr)) throw new PromptError("insufficient_acr", "insufficient_acr", `the id_token's acr ${JSON.stringify(claims.acr.slice(0, 100))} is not one of ${session.acceptedAcr.join(", ")}`);
	// One approval, one action: bound to another action, or to one when none was asked, is refused (as the assertion verifier does).
	if ((claims.action_hash ?? null) !== session.actionHash) {
		throw new PromptError("action_mismatch", "action_mismatch", session.actionHash === null ? "the id_token approves an action, and none was passed to start" : "the id_token does not approve the action passed to start");
	}
	return claims;
}
