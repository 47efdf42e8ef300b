import type { Operations } from "./generated/api-types.js";
import { TwofoldError, type TwofoldErrorDetail } from "./twofold-error.js";

/**
 * A typed client for Twofold's HTTP API (v1), on fetch, with no dependencies.
 * Its types come from generated/api-types.ts, which is generated from the
 * server's OpenAPI document (a test regenerates it and fails on any drift),
 * and OPERATIONS names the operation behind each method.
 */
export type Operation = keyof Operations;
export type Body<K extends Operation> = Operations[K]["body"];
export type Query<K extends Operation> = Operations[K]["query"];
export type Result<K extends Operation> = Operations[K]["response"];

export const OPERATIONS = {
	enroll: "POST /v1/users/{user_id}/factors",
	listFactors: "GET /v1/users/{user_id}/factors",
	confirm: "POST /v1/users/{user_id}/factors/{factor_id}/confirm",
	resyncFactor: "POST /v1/users/{user_id}/factors/{factor_id}/resync",
	deleteFactor: "DELETE /v1/users/{user_id}/factors/{factor_id}",
	renameFactor: "PATCH /v1/users/{user_id}/factors/{factor_id}",
	verify: "POST /v1/users/{user_id}/verify",
	createChallenge: "POST /v1/users/{user_id}/challenges",
	regenerateRecoveryCodes: "POST /v1/users/{user_id}/recovery-codes",
	getUser: "GET /v1/users/{user_id}",
	deleteUser: "DELETE /v1/users/{user_id}",
	unlockUser: "POST /v1/users/{user_id}/unlock",
	resetUser: "POST /v1/users/{user_id}/reset",
	listEvents: "GET /v1/events",
	getTenant: "GET /v1/tenant",
	updateTenant: "PATCH /v1/tenant",
	setTenantLogo: "PUT /v1/tenant/logo",
	deleteTenantLogo: "DELETE /v1/tenant/logo",
	redeemAssertion: "POST /v1/assertions/redeem",
	createClient: "POST /v1/clients",
	listClients: "GET /v1/clients",
	getClient: "GET /v1/clients/{client_id}",
	updateClient: "PATCH /v1/clients/{client_id}",
	deleteClient: "DELETE /v1/clients/{client_id}",
	setClientLogo: "PUT /v1/clients/{client_id}/logo",
	deleteClientLogo: "DELETE /v1/clients/{client_id}/logo",
	importTokens: "POST /v1/imports",
	listImports: "GET /v1/imports",
	getImport: "GET /v1/imports/{import_id}",
	createWebhook: "POST /v1/webhooks",
	listWebhooks: "GET /v1/webhooks",
	updateWebhook: "PATCH /v1/webhooks/{webhook_id}",
	deleteWebhook: "DELETE /v1/webhooks/{webhook_id}",
	rotateWebhookSecret: "POST /v1/webhooks/{webhook_id}/rotate-secret",
	listDeliveries: "GET /v1/webhooks/{webhook_id}/deliveries",
	retryDelivery: "POST /v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
	jwks: "GET /.well-known/jwks.json",
	browserHelper: "GET /v1/browser.js",
	health: "GET /healthz",
	ready: "GET /readyz",
	metrics: "GET /metrics",
} as const satisfies Record<string, Operation>;

export type Factor = Result<"GET /v1/users/{user_id}/factors">["factors"][number];
export type EnrollRequest = Body<"POST /v1/users/{user_id}/factors">;
export type EnrollTOTPResponse = Extract<Result<"POST /v1/users/{user_id}/factors">, { totp: unknown }>;
export type EnrollWebAuthnResponse = Extract<Result<"POST /v1/users/{user_id}/factors">, { webauthn: unknown }>;
/** HOTP: `hotp` (secret, URI, QR code) only when Twofold generated the secret; an imported one is not echoed. */
export type EnrollHOTPResponse = Exclude<Result<"POST /v1/users/{user_id}/factors">, { totp: unknown } | { webauthn: unknown }>;
export type ConfirmResponse = Result<"POST /v1/users/{user_id}/factors/{factor_id}/confirm">;
/** A proof or an admin reason: what removing a factor or regenerating recovery codes takes. */
export type ChangeAuthorization = Body<"DELETE /v1/users/{user_id}/factors/{factor_id}">;
export type VerifyRequest = Body<"POST /v1/users/{user_id}/verify">;
export type VerifyResponse = Result<"POST /v1/users/{user_id}/verify">;
export type ChallengeResponse = Result<"POST /v1/users/{user_id}/challenges">;
export type User = Result<"GET /v1/users/{user_id}">;
export type AuditEvent = Result<"GET /v1/events">["events"][number];
export type Tenant = Result<"GET /v1/tenant">;
export type TenantPatch = Body<"PATCH /v1/tenant">;
export type RedeemResponse = Result<"POST /v1/assertions/redeem">;
export type JWKS = Result<"GET /.well-known/jwks.json">;
export type ImportReport = Result<"POST /v1/imports">;

/** What importTokens sends beside the file: the query, and the PSKC secrets as headers (never in the URL). */
export interface ImportTokensOptions {
	format?: Query<"POST /v1/imports">["format"];
	dryRun?: boolean;
	userColumn?: string;
	userFrom?: "label" | "issuer-label";
	/** Replace the factors of users who have one, through the audited admin reset, with this reason. */
	replaceReason?: string;
	/** PSKC encrypted with a password (RFC 6030 §6.2). Sent in the Twofold-PSKC-Passphrase header, UTF-8. */
	pskcPassphrase?: string;
	/** PSKC encrypted with a pre-shared key (RFC 6030 §6.1): 16 bytes. Sent in the Twofold-PSKC-Key header, hex. */
	pskcKey?: Uint8Array;
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

	enroll(userId: string, request: Extract<EnrollRequest, { type: "totp" }>): Promise<EnrollTOTPResponse>;
	enroll(userId: string, request: Extract<EnrollRequest, { type: "hotp" }>): Promise<EnrollHOTPResponse>;
	enroll(userId: string, request: Extract<EnrollRequest, { type: "webauthn" }>): Promise<EnrollWebAuthnResponse>;
	enroll(userId: string, request: EnrollRequest): Promise<EnrollTOTPResponse | EnrollHOTPResponse | EnrollWebAuthnResponse> {
		return this.call(OPERATIONS.enroll, { user_id: userId }, request);
	}
	listFactors(userId: string): Promise<Result<typeof OPERATIONS.listFactors>> {
		return this.call(OPERATIONS.listFactors, { user_id: userId });
	}
	/** TOTP, HOTP: {code}; WebAuthn: {credential} (the browser helper's register() result). */
	confirm(userId: string, factorId: string, request: Body<typeof OPERATIONS.confirm>): Promise<ConfirmResponse> {
		return this.call(OPERATIONS.confirm, { user_id: userId, factor_id: factorId }, request);
	}
	/** HOTP (RFC 4226 §7.4): two consecutive codes from a token that ran ahead; a counted attempt, answered with the factor (no assertion). */
	resyncFactor(userId: string, factorId: string, codes: [string, string]): Promise<Result<typeof OPERATIONS.resyncFactor>> {
		return this.call(OPERATIONS.resyncFactor, { user_id: userId, factor_id: factorId }, { codes });
	}
	/** A new label (the rules of enrollment); no proof: a name grants nothing. */
	renameFactor(userId: string, factorId: string, label: string): Promise<Result<typeof OPERATIONS.renameFactor>> {
		return this.call(OPERATIONS.renameFactor, { user_id: userId, factor_id: factorId }, { label });
	}
	deleteFactor(userId: string, factorId: string, authorization: ChangeAuthorization = {}): Promise<void> {
		return this.call(OPERATIONS.deleteFactor, { user_id: userId, factor_id: factorId }, authorization);
	}
	/** Only a resolved promise means valid; every failure rejects with a TwofoldError (invalid_code, locked, too_many_attempts, …). */
	verify(userId: string, request: VerifyRequest): Promise<VerifyResponse> {
		return this.call(OPERATIONS.verify, { user_id: userId }, request);
	}
	/** {"type": "webauthn"}: request options for the browser helper; {"type": "email", "to"}: send a code (low assurance, tenant opt-in). */
	createChallenge(userId: string, request: Body<typeof OPERATIONS.createChallenge> = { type: "webauthn" }): Promise<ChallengeResponse> {
		return this.call(OPERATIONS.createChallenge, { user_id: userId }, request);
	}
	regenerateRecoveryCodes(userId: string, authorization: Body<typeof OPERATIONS.regenerateRecoveryCodes>): Promise<Result<typeof OPERATIONS.regenerateRecoveryCodes>> {
		return this.call(OPERATIONS.regenerateRecoveryCodes, { user_id: userId }, authorization);
	}
	getUser(userId: string): Promise<User> {
		return this.call(OPERATIONS.getUser, { user_id: userId });
	}
	deleteUser(userId: string): Promise<void> {
		return this.call(OPERATIONS.deleteUser, { user_id: userId });
	}
	/** Admin key: remove all factors and recovery codes, with a reason; notify_email sends the user a notice. */
	resetUser(userId: string, request: Body<typeof OPERATIONS.resetUser>): Promise<Result<typeof OPERATIONS.resetUser>> {
		return this.call(OPERATIONS.resetUser, { user_id: userId }, request);
	}
	unlockUser(userId: string): Promise<void> {
		return this.call(OPERATIONS.unlockUser, { user_id: userId });
	}
	listEvents(query: Query<typeof OPERATIONS.listEvents> = {}): Promise<Result<typeof OPERATIONS.listEvents>> {
		return this.call(OPERATIONS.listEvents, {}, undefined, query);
	}
	getTenant(): Promise<Tenant> {
		return this.call(OPERATIONS.getTenant, {});
	}
	updateTenant(patch: TenantPatch): Promise<Tenant> {
		return this.call(OPERATIONS.updateTenant, {}, patch);
	}
	/** Admin key. The hosted prompt's logo: PNG, JPEG, WebP or GIF bytes with their type, at most 64 KB (never SVG). */
	setTenantLogo(bytes: Uint8Array, contentType: "image/png" | "image/jpeg" | "image/webp" | "image/gif"): Promise<void> {
		return this.call(OPERATIONS.setTenantLogo, {}, undefined, undefined, { bytes, contentType });
	}
	deleteTenantLogo(): Promise<void> {
		return this.call(OPERATIONS.deleteTenantLogo, {});
	}
	/** Admin key. Registers an application with the hosted prompt; for the secret methods, the secret is in this answer only. */
	createClient(request: Body<typeof OPERATIONS.createClient>): Promise<Result<typeof OPERATIONS.createClient>> {
		return this.call(OPERATIONS.createClient, {}, request);
	}
	listClients(): Promise<Result<typeof OPERATIONS.listClients>> {
		return this.call(OPERATIONS.listClients, {});
	}
	getClient(clientId: string): Promise<Result<typeof OPERATIONS.getClient>> {
		return this.call(OPERATIONS.getClient, { client_id: clientId });
	}
	updateClient(clientId: string, patch: Body<typeof OPERATIONS.updateClient>): Promise<Result<typeof OPERATIONS.updateClient>> {
		return this.call(OPERATIONS.updateClient, { client_id: clientId }, patch);
	}
	deleteClient(clientId: string): Promise<void> {
		return this.call(OPERATIONS.deleteClient, { client_id: clientId });
	}
	/** Admin key. The client's logo on the prompt, as setTenantLogo. */
	setClientLogo(clientId: string, bytes: Uint8Array, contentType: "image/png" | "image/jpeg" | "image/webp" | "image/gif"): Promise<void> {
		return this.call(OPERATIONS.setClientLogo, { client_id: clientId }, undefined, undefined, { bytes, contentType });
	}
	deleteClientLogo(clientId: string): Promise<void> {
		return this.call(OPERATIONS.deleteClientLogo, { client_id: clientId });
	}
	/**
	 * Admin key. Imports a token file (otpauth list, OATH CSV, PSKC, pi-tokenjanitor CSV, Authelia YAML) as active
	 * factors; resolves with the job's report when it is done (docs/import.md). A stream is sent as it is read.
	 */
	importTokens(file: Uint8Array | string | ReadableStream<Uint8Array>, options: ImportTokensOptions = {}): Promise<ImportReport> {
		const query: Query<typeof OPERATIONS.importTokens> = {};
		if (options.format !== undefined) query.format = options.format;
		if (options.dryRun !== undefined) query.dry_run = options.dryRun ? "true" : "false";
		if (options.userColumn !== undefined) query.user_column = options.userColumn;
		if (options.userFrom !== undefined) query.user_from = options.userFrom;
		if (options.replaceReason !== undefined) query.replace_reason = options.replaceReason;
		const headers: Record<string, string> = {};
		// Header values are octets: the UTF-8 bytes of the passphrase travel as latin1 characters (the server reads them back as UTF-8).
		if (options.pskcPassphrase !== undefined) headers["twofold-pskc-passphrase"] = String.fromCharCode(...new TextEncoder().encode(options.pskcPassphrase));
		if (options.pskcKey !== undefined) headers["twofold-pskc-key"] = Array.from(options.pskcKey, (byte) => byte.toString(16).padStart(2, "0")).join("");
		const bytes = typeof file === "string" ? new TextEncoder().encode(file) : file;
		return this.call(OPERATIONS.importTokens, {}, undefined, query, { bytes, contentType: "application/octet-stream", headers });
	}
	/** Admin key. Recent import jobs, newest first; a running one shows its progress. */
	listImports(query: Query<typeof OPERATIONS.listImports> = {}): Promise<Result<typeof OPERATIONS.listImports>> {
		return this.call(OPERATIONS.listImports, {}, undefined, query);
	}
	getImport(importId: string): Promise<Result<typeof OPERATIONS.getImport>> {
		return this.call(OPERATIONS.getImport, { import_id: importId });
	}
	/** Single use (R-AS-5): rejects with assertion_redeemed the second time. */
	redeemAssertion(assertion: string): Promise<RedeemResponse> {
		return this.call(OPERATIONS.redeemAssertion, {}, { assertion });
	}
	/** Admin key. The signing secret is in this answer only. */
	createWebhook(request: Body<typeof OPERATIONS.createWebhook>): Promise<Result<typeof OPERATIONS.createWebhook>> {
		return this.call(OPERATIONS.createWebhook, {}, request);
	}
	listWebhooks(): Promise<Result<typeof OPERATIONS.listWebhooks>> {
		return this.call(OPERATIONS.listWebhooks, {});
	}
	updateWebhook(webhookId: string, patch: Body<typeof OPERATIONS.updateWebhook>): Promise<Result<typeof OPERATIONS.updateWebhook>> {
		return this.call(OPERATIONS.updateWebhook, { webhook_id: webhookId }, patch);
	}
	deleteWebhook(webhookId: string): Promise<void> {
		return this.call(OPERATIONS.deleteWebhook, { webhook_id: webhookId });
	}
	rotateWebhookSecret(webhookId: string): Promise<Result<typeof OPERATIONS.rotateWebhookSecret>> {
		return this.call(OPERATIONS.rotateWebhookSecret, { webhook_id: webhookId });
	}
	listDeliveries(webhookId: string, query: Query<typeof OPERATIONS.listDeliveries> = {}): Promise<Result<typeof OPERATIONS.listDeliveries>> {
		return this.call(OPERATIONS.listDeliveries, { webhook_id: webhookId }, undefined, query);
	}
	retryDelivery(webhookId: string, deliveryId: string): Promise<void> {
		return this.call(OPERATIONS.retryDelivery, { webhook_id: webhookId, delivery_id: deliveryId });
	}
	jwks(): Promise<JWKS> {
		return this.call(OPERATIONS.jwks, {});
	}

	private async call<K extends Operation>(
		operation: K,
		params: Record<string, string>,
		body?: Body<K>,
		query?: Query<K> | Record<string, never>,
		/** A body that is not JSON (a logo): sent as it is, with its own Content-Type. */
		raw?: { bytes: Uint8Array | ReadableStream<Uint8Array>; contentType: string; headers?: Record<string, string> },
	): Promise<Result<K>> {
		const [method, template] = operation.split(" ") as [string, string];
		const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
			const value = params[name];
			// "." and ".." would be resolved away by URL parsing and reach another route.
			if (value === undefined || value === "" || value === "." || value === "..") throw new TypeError(`${name} must be a non-empty id`);
			return encodeURIComponent(value);
		});
		const search = new URLSearchParams();
		for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) if (value !== undefined) search.set(name, String(value));
		const url = `${this.baseUrl}${path}${search.size > 0 ? `?${search}` : ""}`;
		const sent =
			raw !== undefined
				? { type: raw.contentType, payload: raw.bytes instanceof Uint8Array ? new Uint8Array(raw.bytes) : raw.bytes }
				: body === undefined
					? undefined
					: { type: "application/json", payload: JSON.stringify(body) };
		const response = await this.fetch(url, {
			method,
			headers: { authorization: `Bearer ${this.apiKey}`, ...raw?.headers, ...(sent === undefined ? {} : { "content-type": sent.type }) },
			...(sent === undefined ? {} : { body: sent.payload }),
			// A streamed body (an import read as it goes) needs half-duplex in fetch (WHATWG Fetch: RequestInit.duplex).
			...(sent?.payload instanceof ReadableStream ? { duplex: "half" } : {}),
		} as RequestInit);
		const text = await response.text();
		const json: unknown = text.length > 0 ? JSON.parse(text) : undefined;
		if (!response.ok) {
			const error = (json as { error?: { code?: string; message?: string; details?: TwofoldErrorDetail[] } } | undefined)?.error;
			const retryAfter = response.headers.get("retry-after");
			throw new TwofoldError(
				response.status,
				error?.code ?? "http_error",
				error?.message ?? `HTTP ${response.status}`,
				retryAfter === null ? undefined : Number(retryAfter),
				Array.isArray(error?.details) ? error.details : [],
			);
		}
		return json as Result<K>;
	}
}
