import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from "jose";
import { type ActionValue, actionHash } from "./action-hash.js";
import { pkceChallenge, randomToken } from "./pkce.js";
import { ACR_NONE, checkCallback, type PromptIdTokenClaims, type PromptSession, verifyIdToken } from "./prompt-checks.js";
import { PromptError } from "./prompt-error.js";
import { DEFAULT_ACR_VALUES } from "./verify-assertion.js";

/**
 * The application's side of the Twofold Prompt (issue 15, docs/prompt.md): Twofold's hosted pages for verify,
 * enroll and manage, reached through the plain OpenID Connect authorization-code flow. Any OIDC client library does
 * the same; this helper only spares the application the protocol details and adds Twofold's checks (the user, the
 * action, the level). The flow:
 *
 *   start()    the backend pushes the request (PAR, RFC 9126) with client_secret_basic, PKCE S256, state and nonce,
 *              and gets the URL to send the browser to; it keeps the returned session in its own.
 *   callback() the browser comes back; the RFC 9207 iss, the state and any OAuth error are checked, the code is
 *              exchanged with the verifier, and the id_token is verified against the issuer's JWKS.
 *
 * Only the issuer's own endpoints are called (from its discovery document, read once).
 */

export { ACR_NONE, ID_TOKEN_ALGORITHMS, type PromptIdTokenClaims, type PromptSession } from "./prompt-checks.js";
export { type PromptFailure, PromptError } from "./prompt-error.js";

export interface PromptClientOptions {
	/** The tenant's issuer, exactly as Twofold announces it: `${TWOFOLD_PUBLIC_URL}/t/${tenantId}`. */
	issuer: string;
	/** The client registered for this application (POST /v1/clients, or `twofold clients create`). */
	clientId: string;
	clientSecret: string;
	/** One of the client's registered redirect URIs, exactly. */
	redirectUri: string;
	fetch?: typeof fetch;
	/** Seconds of clock difference tolerated for the id_token's exp and iat. Default 5. */
	clockTolerance?: number;
	/** How long one call to Twofold may take. Default 10 s. */
	timeoutMs?: number;
}

export type PromptIntent = "verify" | "enroll" | "manage";

export interface PromptStartOptions {
	/** The application's opaque id of its signed-in user (login_hint): 1 to 128 printable ASCII characters. */
	userId: string;
	/** verify (default): a second factor; enroll: add a factor; manage: the user's factors and recovery codes. */
	intent?: PromptIntent;
	/** The operation to approve (for example requestAction(...)); the result is bound to its hash. Needs description. */
	action?: ActionValue;
	/** A short description of the action in the application's words; the page shows it as coming from the application. */
	description?: string;
	/**
	 * The acr levels acceptable (sent as acr_values, and checked on the result), for example [ACR.phishingResistant].
	 * Default: DEFAULT_ACR_VALUES, every second factor but an email code (R-EM-1).
	 */
	acrValues?: readonly string[];
	/** Preferred languages of the pages, most preferred first (BCP 47 tags, ui_locales). */
	uiLocales?: readonly string[];
	/**
	 * Accept a result without any second factor (acr urn:twofold:acr:none, no assertion), which Twofold gives only
	 * when the user has no factor and the tenant's no-factor policy is "allow". Default false: such a result is
	 * refused (insufficient_acr), so a flow that needs a second factor cannot be passed without one.
	 */
	allowNoFactor?: boolean;
}

/** What start() returns: the URL to redirect the browser to, and the session to keep (every field but url). */
export interface PromptStart extends PromptSession {
	url: string;
}

export interface PromptResult {
	/** The id_token's sub: the user the prompt was started for. */
	userId: string;
	/** The tenant (tid). */
	tenantId: string;
	/** The level reached (urn:twofold:acr:phr, …:otp, …:rcode, …:email, or …:none under allowNoFactor). */
	acr: string;
	/** RFC 8176 methods (otp, hwk, swk, user, rcode, …); empty without a factor. */
	amr: string[];
	/** When the factor was verified (seconds since the epoch). */
	authTime: number;
	/** The Twofold step-up assertion (twofold_assertion), for everything that checks assertions; null without a factor. */
	assertion: string | null;
	/** The hash of the approved action, or null. */
	actionHash: string | null;
	/** Every verified claim of the id_token. */
	claims: PromptIdTokenClaims;
}

export interface PromptClient {
	start(options: PromptStartOptions): Promise<PromptStart>;
	callback(callback: string | URL | URLSearchParams, session: PromptSession): Promise<PromptResult>;
}

interface Provider {
	issuer: string;
	parEndpoint: string;
	authorizationEndpoint: string;
	tokenEndpoint: string;
	issParameterSupported: boolean;
	keys: JWTVerifyGetKey;
}

/** The login_hint Twofold accepts: a user id as the API takes it (1-128 printable ASCII, space included: contract/schemas/common.ts). */
const USER_ID = /^[\x20-\x7e]{1,128}$/;
/** The length Twofold allows a description (shown on the page, so short). */
const MAX_DESCRIPTION = 200;
const INTENTS: readonly string[] = ["verify", "enroll", "manage"];

function required(options: Record<string, unknown>, name: string): string {
	const value = options[name];
	if (typeof value !== "string" || value.trim().length === 0) throw new TypeError(`createPromptClient: the option "${name}" is required`);
	return value;
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before they are joined, so a ":" in either stays unambiguous. */
function basicAuthorization(clientId: string, clientSecret: string): string {
	return `Basic ${btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`)}`;
}

export function createPromptClient(options: PromptClientOptions): PromptClient {
	const issuer = required(options as unknown as Record<string, unknown>, "issuer");
	const clientId = required(options as unknown as Record<string, unknown>, "clientId");
	const clientSecret = required(options as unknown as Record<string, unknown>, "clientSecret");
	const redirectUri = required(options as unknown as Record<string, unknown>, "redirectUri");
	const doFetch = options.fetch ?? globalThis.fetch;
	const timeoutMs = options.timeoutMs ?? 10_000;

	/** A JSON answer from the provider; an OAuth error answer as a PromptError. */
	async function call(what: string, url: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
		let response: Response;
		try {
			response = await doFetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
		} catch (error) {
			const reason = what === "discovery" ? "discovery_failed" : "endpoint_error";
			throw new PromptError(reason, reason === "discovery_failed" ? reason : "temporarily_unavailable", `the ${what} at ${url} could not be reached (${error instanceof Error ? error.message : String(error)})`);
		}
		const text = await response.text();
		let json: unknown;
		try {
			json = JSON.parse(text);
		} catch {
			json = undefined;
		}
		const body = typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
		if (!response.ok) {
			if (what === "discovery") throw new PromptError("discovery_failed", "discovery_failed", `the discovery document at ${url} answered HTTP ${response.status}`, response.status);
			const error = typeof body?.error === "string" ? body.error : "server_error";
			const description = typeof body?.error_description === "string" ? `: ${body.error_description}` : "";
			throw new PromptError("endpoint_error", error, `the ${what} answered ${response.status} ${error}${description}`, response.status);
		}
		if (body === undefined) throw new PromptError(what === "discovery" ? "discovery_failed" : "invalid_response", what === "discovery" ? "discovery_failed" : "invalid_response", `the ${what} at ${url} did not answer a JSON object`, response.status);
		return body;
	}

	/** The issuer's metadata (OIDC Discovery 1.0 §4), read once; a failed read is retried by the next call. */
	let discovery: Promise<Provider> | undefined;
	async function discover(): Promise<Provider> {
		const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
		const document = await call("discovery", url, { headers: { accept: "application/json" } });
		// §4.3 (and RFC 8414 §3.3): the document must name exactly the issuer it was asked for, or it is another's.
		if (document.issuer !== issuer) {
			throw new PromptError("issuer_mismatch", "issuer_mismatch", `the discovery document at ${url} names the issuer ${JSON.stringify(document.issuer)}, not ${JSON.stringify(issuer)}`);
		}
		const endpoint = (name: string): string => {
			const value = document[name];
			if (typeof value !== "string" || !URL.canParse(value)) throw new PromptError("discovery_failed", "discovery_failed", `the discovery document at ${url} has no ${name}`);
			return value;
		};
		const jwksUri = endpoint("jwks_uri");
		return {
			issuer,
			parEndpoint: endpoint("pushed_authorization_request_endpoint"),
			authorizationEndpoint: endpoint("authorization_endpoint"),
			tokenEndpoint: endpoint("token_endpoint"),
			issParameterSupported: document.authorization_response_iss_parameter_supported === true,
			// No cooldown between fetches (jose's default is 30 s): an id_token reaches us only in the token endpoint's
			// answer to our own authenticated request, so an unknown kid is the issuer's word that it rotated its keys
			// (`twofold keys rotate-signing --immediate` signs with the new key at once), not a stranger's token making
			// us fetch. With the cooldown, every callback within 30 s of the last fetch would be refused.
			keys: createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: timeoutMs, cooldownDuration: 0, ...(options.fetch === undefined ? {} : { [customFetch]: options.fetch }) }),
		};
	}
	const provider = (): Promise<Provider> => {
		discovery ??= discover().catch((error: unknown) => {
			discovery = undefined;
			throw error;
		});
		return discovery;
	};

	/** A form post to the provider with client_secret_basic. */
	const post = (what: string, url: string, form: URLSearchParams) =>
		call(what, url, {
			method: "POST",
			headers: { authorization: basicAuthorization(clientId, clientSecret), "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
			body: form,
		});

	return {
		async start(request) {
			// Misuse is a TypeError here, not an error page in the user's browser later.
			if (typeof request?.userId !== "string" || !USER_ID.test(request.userId)) throw new TypeError("start: userId must be 1 to 128 printable ASCII characters (the application's id of its user)");
			const intent = request.intent ?? "verify";
			if (!INTENTS.includes(intent)) throw new TypeError(`start: intent must be one of ${INTENTS.join(", ")}`);
			if ((request.action === undefined) !== (request.description === undefined)) throw new TypeError("start: an action needs a description in your words, and a description an action");
			if (request.description !== undefined && (typeof request.description !== "string" || request.description.trim().length === 0 || request.description.length > MAX_DESCRIPTION)) {
				throw new TypeError(`start: description must be 1 to ${MAX_DESCRIPTION} characters`);
			}
			const { parEndpoint, authorizationEndpoint } = await provider();
			const state = randomToken();
			const nonce = randomToken();
			const codeVerifier = randomToken();
			const form = new URLSearchParams({
				client_id: clientId,
				response_type: "code",
				scope: "openid",
				redirect_uri: redirectUri,
				state,
				nonce,
				code_challenge: await pkceChallenge(codeVerifier),
				code_challenge_method: "S256",
				login_hint: request.userId,
				intent,
			});
			let hash: string | null = null;
			if (request.action !== undefined) {
				hash = await actionHash(request.action);
				// RFC 9396: one entry of Twofold's type; the provider hashes the action again and binds the result to it.
				form.set("authorization_details", JSON.stringify([{ type: "twofold_action", action: request.action, description: request.description }]));
			}
			// Twofold holds the result to acr_values exactly, so a no-factor result the caller accepts must be listed too.
			if (request.acrValues !== undefined && request.acrValues.length > 0) {
				const listed = request.allowNoFactor === true && !request.acrValues.includes(ACR_NONE) ? [...request.acrValues, ACR_NONE] : request.acrValues;
				form.set("acr_values", listed.join(" "));
			}
			if (request.uiLocales !== undefined && request.uiLocales.length > 0) form.set("ui_locales", request.uiLocales.join(" "));
			const pushed = await post("pushed authorization request endpoint", parEndpoint, form);
			if (typeof pushed.request_uri !== "string") throw new PromptError("invalid_response", "invalid_response", "the pushed authorization request endpoint answered no request_uri");
			const url = new URL(authorizationEndpoint);
			url.searchParams.set("client_id", clientId);
			url.searchParams.set("request_uri", pushed.request_uri);
			const acceptedAcr = [...(request.acrValues !== undefined && request.acrValues.length > 0 ? request.acrValues : DEFAULT_ACR_VALUES), ...(request.allowNoFactor === true ? [ACR_NONE] : [])];
			return { url: url.href, state, nonce, codeVerifier, userId: request.userId, actionHash: hash, acceptedAcr };
		},

		async callback(callback, session) {
			const current = await provider();
			const code = checkCallback(callback, session, current);
			const tokens = await post(
				"token endpoint",
				current.tokenEndpoint,
				new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: session.codeVerifier }),
			);
			if (typeof tokens.id_token !== "string") throw new PromptError("invalid_response", "invalid_response", "the token endpoint answered no id_token");
			const claims = await verifyIdToken(tokens.id_token, current.keys, {
				issuer: current.issuer,
				clientId,
				session,
				...(options.clockTolerance === undefined ? {} : { clockTolerance: options.clockTolerance }),
			});
			const assertion = tokens.twofold_assertion;
			// Without a factor there must be no assertion (nothing may take it for one), and with a factor there must be one.
			if (claims.acr === ACR_NONE ? assertion !== undefined : typeof assertion !== "string") {
				throw new PromptError("invalid_response", "invalid_response", claims.acr === ACR_NONE ? "the token endpoint answered an assertion without a second factor" : "the token endpoint answered no twofold_assertion");
			}
			return {
				userId: claims.sub,
				tenantId: claims.tid,
				acr: claims.acr,
				amr: claims.amr,
				authTime: claims.auth_time,
				assertion: typeof assertion === "string" ? assertion : null,
				actionHash: claims.action_hash ?? null,
				claims,
			};
		},
	};
}
