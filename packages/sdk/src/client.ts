import type { ActionValue } from "./action-hash.js";
import { TwofoldError } from "./twofold-error.js";

/**
 * A typed client for Twofold's HTTP API (v1), on fetch, with no dependencies.
 * Every method is one operation of the OpenAPI document; OPERATIONS lists them,
 * and the server's test suite checks that list against /openapi.json.
 */
export const OPERATIONS = {
	enroll: ["POST", "/v1/users/{user_id}/factors"],
	listFactors: ["GET", "/v1/users/{user_id}/factors"],
	confirm: ["POST", "/v1/users/{user_id}/factors/{factor_id}/confirm"],
	deleteFactor: ["DELETE", "/v1/users/{user_id}/factors/{factor_id}"],
	verify: ["POST", "/v1/users/{user_id}/verify"],
	createChallenge: ["POST", "/v1/users/{user_id}/challenges"],
	regenerateRecoveryCodes: ["POST", "/v1/users/{user_id}/recovery-codes"],
	getUser: ["GET", "/v1/users/{user_id}"],
	deleteUser: ["DELETE", "/v1/users/{user_id}"],
	unlockUser: ["POST", "/v1/users/{user_id}/unlock"],
	listEvents: ["GET", "/v1/events"],
	getTenant: ["GET", "/v1/tenant"],
	updateTenant: ["PATCH", "/v1/tenant"],
	redeemAssertion: ["POST", "/v1/assertions/redeem"],
	jwks: ["GET", "/.well-known/jwks.json"],
	browserHelper: ["GET", "/v1/browser.js"],
	health: ["GET", "/healthz"],
	ready: ["GET", "/readyz"],
} as const satisfies Record<string, readonly [string, string]>;

export interface Factor {
	id: string;
	type: "totp" | "webauthn";
	status: "pending" | "active";
	label: string;
	created_at: string;
	activated_at: string | null;
	last_used_at: string | null;
}

/** A proof from the user: a code, a WebAuthn assertion answering a challenge, or (factor changes only) a fresh step-up assertion. */
export type Proof = { code: string } | { challenge_id: string; credential: unknown } | { assertion: string };
/** A factor change is authorized by the user's proof, or by an admin key with a reason (audited). */
export type ChangeAuthorization = Proof | { reason: string } | Record<string, never>;

export interface EnrollTOTPRequest {
	type: "totp";
	label?: string;
	issuer?: string;
	algorithm?: "SHA1" | "SHA256" | "SHA512";
	digits?: 6 | 7 | 8;
	period?: number;
	secret?: string;
}
export interface EnrollTOTPResponse {
	factor: Factor;
	totp: { secret: string; uri: string; qr_svg: string; qr_png: string };
}
export interface EnrollWebAuthnResponse {
	factor: Factor;
	webauthn: { options: unknown };
}
export interface ConfirmResponse {
	factor: Factor;
	recovery_codes?: string[];
	assertion: string;
}
export interface VerifyRequest {
	factor_id?: string;
	/** What this proof approves; becomes the assertion's action_hash. */
	action?: { [key: string]: ActionValue };
	/** The application verified a first factor too: amr gets "mfa". */
	first_factor?: boolean;
	/** The assertion's aud, e.g. the API that will check it; default the tenant id (never another tenant's id). */
	audience?: string;
}
export interface VerifyResponse {
	valid: true;
	method: "totp" | "webauthn" | "recovery_code";
	factor_id?: string;
	recovery_codes_remaining: number;
	assertion: string;
}
export interface ChallengeResponse {
	challenge: { id: string; expires_at: string };
	webauthn: { options: unknown };
}
export interface User {
	id: string;
	factors: Factor[];
	recovery_codes_remaining: number;
	locked: boolean;
	created_at: string;
}
export interface AuditEvent {
	id: string;
	type: string;
	user_id: string | null;
	factor_id: string | null;
	data: Record<string, unknown>;
	created_at: string;
}
export interface Tenant {
	id: string;
	name: string;
	settings: Record<string, unknown>;
}
export interface RedeemResponse {
	redeemed: true;
	jti: string;
	sub: string;
	exp: string;
	action_hash?: string;
}
export interface JWKS {
	keys: { kty: "OKP"; crv: "Ed25519"; x: string; kid: string; alg: "EdDSA"; use: "sig" }[];
}

export interface ClientOptions {
	/** Where the application reaches Twofold, e.g. http://127.0.0.1:8080 */
	baseUrl: string;
	apiKey: string;
	fetch?: typeof fetch;
}

export class TwofoldClient {
	private readonly baseUrl: string;
	private readonly apiKey: string;
	private readonly fetch: typeof fetch;

	constructor(options: ClientOptions) {
		this.baseUrl = options.baseUrl.replace(/\/+$/, "");
		this.apiKey = options.apiKey;
		this.fetch = options.fetch ?? globalThis.fetch;
	}

	enroll(userId: string, request: EnrollTOTPRequest & ChangeAuthorization): Promise<EnrollTOTPResponse>;
	enroll(userId: string, request: { type: "webauthn"; label?: string } & ChangeAuthorization): Promise<EnrollWebAuthnResponse>;
	enroll(userId: string, request: object): Promise<EnrollTOTPResponse | EnrollWebAuthnResponse> {
		return this.call("enroll", { user_id: userId }, request);
	}
	listFactors(userId: string): Promise<{ factors: Factor[] }> {
		return this.call("listFactors", { user_id: userId });
	}
	/** TOTP: {code}; WebAuthn: {credential} (the browser helper's register() result). */
	confirm(userId: string, factorId: string, request: { code: string } | { credential: unknown }): Promise<ConfirmResponse> {
		return this.call("confirm", { user_id: userId, factor_id: factorId }, request);
	}
	deleteFactor(userId: string, factorId: string, authorization: ChangeAuthorization = {}): Promise<void> {
		return this.call("deleteFactor", { user_id: userId, factor_id: factorId }, authorization);
	}
	/** Only a resolved promise means valid; every failure rejects with a TwofoldError (invalid_code, locked, too_many_attempts, …). */
	verify(userId: string, request: ({ code: string } | { challenge_id: string; credential: unknown }) & VerifyRequest): Promise<VerifyResponse> {
		return this.call("verify", { user_id: userId }, request);
	}
	createChallenge(userId: string): Promise<ChallengeResponse> {
		return this.call("createChallenge", { user_id: userId }, { type: "webauthn" });
	}
	regenerateRecoveryCodes(userId: string, authorization: ChangeAuthorization): Promise<{ recovery_codes: string[] }> {
		return this.call("regenerateRecoveryCodes", { user_id: userId }, authorization);
	}
	getUser(userId: string): Promise<User> {
		return this.call("getUser", { user_id: userId });
	}
	deleteUser(userId: string): Promise<void> {
		return this.call("deleteUser", { user_id: userId });
	}
	unlockUser(userId: string): Promise<void> {
		return this.call("unlockUser", { user_id: userId });
	}
	listEvents(query: { user_id?: string; type?: string; limit?: number; cursor?: string } = {}): Promise<{ events: AuditEvent[]; next_cursor: string | null }> {
		return this.call("listEvents", {}, undefined, query);
	}
	getTenant(): Promise<Tenant> {
		return this.call("getTenant", {});
	}
	updateTenant(patch: Record<string, unknown>): Promise<Tenant> {
		return this.call("updateTenant", {}, patch);
	}
	/** Single use (R-AS-5): rejects with assertion_redeemed the second time. */
	redeemAssertion(assertion: string): Promise<RedeemResponse> {
		return this.call("redeemAssertion", {}, { assertion });
	}
	jwks(): Promise<JWKS> {
		return this.call("jwks", {});
	}

	private async call<T>(
		operation: keyof typeof OPERATIONS,
		params: Record<string, string>,
		body?: unknown,
		query?: Record<string, string | number | undefined>,
	): Promise<T> {
		const [method, template] = OPERATIONS[operation];
		const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
			const value = params[name];
			// "." and ".." would be resolved away by URL parsing and reach another route.
			if (value === undefined || value === "" || value === "." || value === "..") throw new TypeError(`${name} must be a non-empty id`);
			return encodeURIComponent(value);
		});
		const search = new URLSearchParams();
		for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) search.set(name, String(value));
		const url = `${this.baseUrl}${path}${search.size > 0 ? `?${search}` : ""}`;
		const response = await this.fetch(url, {
			method,
			headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		const text = await response.text();
		const json: unknown = text.length > 0 ? JSON.parse(text) : undefined;
		if (!response.ok) {
			const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
			const retryAfter = response.headers.get("retry-after");
			throw new TwofoldError(response.status, error?.code ?? "http_error", error?.message ?? `HTTP ${response.status}`, retryAfter === null ? undefined : Number(retryAfter));
		}
		return json as T;
	}
}
