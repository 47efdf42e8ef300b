import { createHash, createHmac, randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { ComponentChildren } from "preact";
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import { ACR } from "../../core/assertion-contract.js";
import { constantTimeEqual } from "../../core/constant-time.js";
import { EnvelopeError, openSecret, sealSecret } from "../../core/envelope.js";
import { isOperatorName, type OperatorRole, roleAllows } from "../../core/operator.js";
import { ERROR_CODES } from "../../contract/errors.js";
import { ServiceError } from "../../contract/service-error.js";
import type { ConsoleSession } from "../../services/console-sessions.js";
import type { TenantContext } from "../../services/tenant-context.js";
import type { OIDCProviders } from "../../oidc/providers.js";
import { CONSOLE_ENROLL_SCRIPT, ConsoleEnrollPage, ConsoleHomePage, ConsoleRefusedPage, ConsoleSignInPage, ConsoleStepUpPage, ConsoleUserPage, ConsoleUsersPage, ConsoleWebhookPage, ConsoleWebhooksPage, ConsoleKeysPage, ConsoleEventsPage, ConsoleSettingsPage, type ConsoleSettingsForm, ConsoleOverviewPage, type ConsoleOverviewView, shownTime } from "../../pages/console-pages.js";
import { chooseLocale, translator } from "../../pages/i18n.js";
import { renderDocument } from "../../pages/layout.js";
import { renderStopPage } from "../../pages/stop-page.js";
import type { FieldError, PageContext } from "../../pages/view.js";
import type { ConsoleClient } from "../../services/console-client.js";
import type { Services } from "../../services/services.js";
import { promptPageHeaders } from "../prompt-headers.js";
import { isCookieValue, newCookieValue, readCookie } from "../prompt-session.js";
import type { RateCounters } from "../../rate-counters/rate-counters.js";
import { EVENT_TYPES } from "../../services/events.js";
import { Value } from "@sinclair/typebox/value";
import { TenantPatch } from "../../contract/schemas/tenant.js";
import { PROMPT_ASSETS } from "./prompt-assets.js";

/**
 * The operator console (issue 16) at /console: an OpenID Connect client of the system tenant's prompt, served by
 * Twofold itself. Signing in (and enrolling, from a one-time link) pushes an authorization request for the operator
 * with acr_values `urn:twofold:acr:phr` only, so nothing but a passkey or security key with user verification opens
 * a session: a TOTP code or a recovery code never does (R-WA-5). The id_token is checked like any client would
 * (signature against the issuer's JWKS, iss, aud, exp, nonce), and then its acr once more. The provider is reached
 * in-process (Fastify's inject): the same endpoints and checks as an application's requests, no network.
 */
export interface ConsoleRouteOptions {
	/** The root app, whose /t/:tenant/ endpoints the console calls in-process. */
	root: () => FastifyInstance;
	providers: OIDCProviders;
	/** TWOFOLD_PUBLIC_URL, or the listening address: https decides HSTS. */
	publicUrl: () => string;
	/** The request rate counters (memory, or Redis across nodes): the per-operator unlock limit counts here. */
	counters: RateCounters;
}

/**
 * Unlocks an operator may make in an hour. Each unlock gives a guesser the whole attempt budget again, so a stolen
 * console session (or a talked-into support person) must not turn into unlimited guesses.
 */
export const CONSOLE_UNLOCKS_PER_HOUR = 10;
const HOUR_MS = 60 * 60_000;

const SESSION_COOKIE = "__Host-twofold-console";
const FLOW_COOKIE = "__Host-twofold-console-flow";
const CSRF_COOKIE = "__Host-twofold-console-csrf";
/** An authorization round trip to the prompt lasts at most this long (the prompt's own interaction lives 10 min). */
const FLOW_TTL_MS = 10 * 60_000;
const ASSETS = { stylesheet: PROMPT_ASSETS.stylesheet, theme: null, script: PROMPT_ASSETS.script, passkeyScript: PROMPT_ASSETS.passkeyScript };
const ENROLL_SCRIPT = "/console/assets/enroll.js";

type Form = Record<string, string>;
/** What the round trip to the prompt must find again at the callback; sealed in a cookie of this browser only. */
interface Flow {
	purpose: "sign-in" | "enroll" | "step-up";
	name: string;
	/** step-up: the console page to return to (a path under /console/, checked when it was asked for). */
	next?: string;
	state: string;
	nonce: string;
	verifier: string;
	expiresAt: number;
}

/** The named cookie of the request (http/prompt-session.ts reads the prompt's the same way). */
const cookieOf = (request: FastifyRequest, name: string): string | undefined => readCookie(request.headers.cookie, name);

/**
 * `__Host-`: Secure, Path=/, no Domain, so no sibling host can set or read it; never readable by script; SameSite=Lax
 * (R-PG-7), so a link to a console page from a ticket or a mail opens it signed in, while no other site's form post
 * carries it.
 */
const cookie = (name: string, value: string): string => `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax`;
const cleared = (name: string): string => `${name}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`;

/**
 * The console forms' CSRF token (synchronizer pattern): an HMAC keyed by this browser's random `__Host-` CSRF cookie,
 * which no other site can read or set, so no other site can make a form post that carries the token.
 */
const csrfFor = (csrfCookie: string): string => createHmac("sha256", Buffer.from(csrfCookie, "base64url")).update("twofold/console-csrf/v1").digest("base64url");

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url");

export function consoleRoutes(services: Services, options: ConsoleRouteOptions): FastifyPluginAsync {
	const { deps } = services;
	const isHTTPS = (): boolean => new URL(options.publicUrl()).protocol === "https:";
	const now = (): number => deps.clock().getTime();

	function pageContext(request: FastifyRequest, csrfCookie: string, base = "/console"): PageContext {
		const locale = chooseLocale([], request.headers["accept-language"], null);
		const name = translator(locale)("console.title");
		return {
			locale,
			t: translator(locale),
			nonce: randomBytes(16).toString("base64url"),
			tenant: { name, logoUrl: null },
			client: { name, logoUrl: null },
			base,
			csrf: csrfFor(csrfCookie),
			assets: ASSETS,
		};
	}

	/** The browser's CSRF cookie, made when it has none (then set on the response). */
	function csrfCookieFor(request: FastifyRequest, reply: FastifyReply): string {
		const existing = cookieOf(request, CSRF_COOKIE);
		if (existing !== undefined && isCookieValue(existing)) return existing;
		const fresh = newCookieValue(deps.random);
		reply.header("set-cookie", cookie(CSRF_COOKIE, fresh));
		return fresh;
	}

	function csrfValid(request: FastifyRequest<{ Body: Form }>): boolean {
		const browser = cookieOf(request, CSRF_COOKIE);
		const submitted = request.body?.csrf;
		if (browser === undefined || !isCookieValue(browser) || typeof submitted !== "string" || submitted.length === 0 || submitted.length > 128) return false;
		return constantTimeEqual(csrfFor(browser), submitted);
	}

	function send(reply: FastifyReply, page: PageContext, tree: ComponentChildren, status = 200): FastifyReply {
		return reply.code(status).headers(promptPageHeaders({ nonce: page.nonce, https: isHTTPS() })).type("text/html; charset=utf-8").send(renderDocument(tree));
	}

	function stop(request: FastifyRequest, reply: FastifyReply, status: number): FastifyReply {
		const locale = chooseLocale([], request.headers["accept-language"], null);
		const html = renderStopPage({ locale, t: translator(locale), title: "stop.csrf_title", body: "stop.csrf_body", stylesheet: PROMPT_ASSETS.stylesheet });
		return reply.code(status).headers(promptPageHeaders({ nonce: randomBytes(16).toString("base64url"), https: isHTTPS() })).type("text/html; charset=utf-8").send(html);
	}

	function signInPage(request: FastifyRequest, reply: FastifyReply, errors: FieldError[] = [], status = 200, name?: string, notice?: "console.signed_out"): FastifyReply {
		const page = pageContext(request, csrfCookieFor(request, reply));
		return send(reply, page, <ConsoleSignInPage page={page} errors={errors} name={name} notice={notice === undefined ? undefined : page.t(notice)} />, status);
	}

	function enrollPage(request: FastifyRequest, reply: FastifyReply, errors: FieldError[] = [], status = 200): FastifyReply {
		const page = pageContext(request, csrfCookieFor(request, reply));
		return send(reply, page, <ConsoleEnrollPage page={page} errors={errors} script={ENROLL_SCRIPT} />, status);
	}

	const flowData = "twofold/console-flow/v1";
	const sealFlow = (flow: Flow): string => {
		const plaintext = Buffer.from(JSON.stringify(flow), "utf8");
		try {
			return Buffer.from(sealSecret({ keyring: deps.keyring, plaintext, associatedData: flowData, random: deps.random }), "utf8").toString("base64url");
		} finally {
			plaintext.fill(0);
		}
	};
	const openFlow = (value: string | undefined): Flow | undefined => {
		if (value === undefined || value.length > 2048) return undefined;
		try {
			const flow = JSON.parse(Buffer.from(openSecret(deps.keyring, Buffer.from(value, "base64url").toString("utf8"), flowData)).toString("utf8")) as Flow;
			return flow.expiresAt > now() ? flow : undefined;
		} catch (error) {
			if (error instanceof EnvelopeError || error instanceof SyntaxError) return undefined;
			throw error;
		}
	};

	const basic = (client: ConsoleClient): string => `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret)}`).toString("base64")}`;

	/** Pushes the authorization request (RFC 9126) for the operator and sends the browser to the prompt. */
	async function startFlow(reply: FastifyReply, client: ConsoleClient, purpose: Flow["purpose"], name: string, next?: string): Promise<FastifyReply> {
		const flow: Flow = { purpose, name, ...(next === undefined ? {} : { next }), state: base64url(deps.random(32)), nonce: base64url(deps.random(32)), verifier: base64url(deps.random(32)), expiresAt: now() + FLOW_TTL_MS };
		const challenge = createHash("sha256").update(flow.verifier).digest("base64url");
		const pushed = await options.root().inject({
			method: "POST",
			url: `/t/${client.tenantId}/par`,
			headers: { authorization: basic(client), "content-type": "application/x-www-form-urlencoded" },
			payload: new URLSearchParams({
				response_type: "code",
				client_id: client.clientId,
				scope: "openid",
				redirect_uri: client.redirectUri,
				state: flow.state,
				nonce: flow.nonce,
				code_challenge: challenge,
				code_challenge_method: "S256",
				login_hint: name,
				// A passkey or security key only: the prompt offers nothing else, and holds the result to it.
				acr_values: ACR.phishingResistant,
				intent: purpose === "enroll" ? "enroll" : "verify",
			}).toString(),
		});
		if (pushed.statusCode !== 201) throw new Error(`the console's authorization request was refused (${pushed.statusCode})`);
		const { request_uri } = JSON.parse(pushed.body) as { request_uri: string };
		reply.header("set-cookie", cookie(FLOW_COOKIE, sealFlow(flow)));
		return reply.redirect(`/t/${client.tenantId}/authorize?${new URLSearchParams({ client_id: client.clientId, request_uri })}`, 303);
	}

	/** The code exchanged and the id_token checked as any client checks it; the operator's name, or undefined. */
	async function finishFlow(client: ConsoleClient, flow: Flow, code: string): Promise<string | undefined> {
		const issuer = options.providers.issuerOf(client.tenantId);
		const token = await options.root().inject({
			method: "POST",
			url: `/t/${client.tenantId}/token`,
			headers: { authorization: basic(client), "content-type": "application/x-www-form-urlencoded" },
			payload: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: client.redirectUri, code_verifier: flow.verifier }).toString(),
		});
		if (token.statusCode !== 200) return undefined;
		const idToken = (JSON.parse(token.body) as { id_token?: unknown }).id_token;
		if (typeof idToken !== "string") return undefined;
		const jwks = await options.root().inject({ method: "GET", url: `/t/${client.tenantId}/jwks` });
		const keys = createLocalJWKSet(JSON.parse(jwks.body) as JSONWebKeySet);
		try {
			// The provider stamps iat/exp from the wall clock, so they are checked against it too (jose's default).
			const { payload } = await jwtVerify(idToken, keys, { issuer, audience: client.clientId, algorithms: ["EdDSA"] });
			// The nonce ties the token to this flow; the subject must be who asked; the level must be a passkey's.
			if (typeof payload.nonce !== "string" || !constantTimeEqual(payload.nonce, flow.nonce)) return undefined;
			if (payload.sub !== flow.name || payload.acr !== ACR.phishingResistant) return undefined;
			return payload.sub;
		} catch {
			return undefined;
		}
	}

	const USERS_PER_PAGE = 50;
	const userBase = (params: { tenant: string; user: string }): string => `/console/t/${encodeURIComponent(params.tenant)}/users/${encodeURIComponent(params.user)}`;

	/** A path under /console/ to return to after a step-up; anything else (another origin, a scheme) is the home page. */
	function consolePath(value: unknown): string {
		if (typeof value !== "string" || value.length > 1024 || !value.startsWith("/console/") || value.startsWith("//") || /[\\\s]/.test(value)) return "/console";
		return value;
	}

	interface SignedIn {
		session: ConsoleSession;
		ctx: TenantContext;
		page: PageContext;
	}

	/**
	 * The session, the operator's context in the tenant (scope and role checked, services/console-access.ts) and the
	 * page; or the answer already sent: the sign-in page, 404 (out of scope), 403 (role), or the step-up page when the
	 * action needs a fresh proof and the last one is older than 5 minutes.
	 */
	async function signedInAs(request: FastifyRequest, reply: FastifyReply, tenantId: string, needed: OperatorRole, base?: string, destructive = false): Promise<SignedIn | undefined> {
		const session = await services.console.readSession(cookieOf(request, SESSION_COOKIE));
		if (session === undefined) {
			reply.redirect("/console/sign-in", 303);
			return undefined;
		}
		const page = pageContext(request, csrfCookieFor(request, reply), base);
		let ctx: TenantContext;
		try {
			ctx = await services.console.context(session.operator, tenantId, needed);
		} catch (error) {
			if (!(error instanceof ServiceError) || (error.code !== "not_found" && error.code !== "forbidden")) throw error;
			const found = error.code === "not_found";
			send(reply, page, <ConsoleRefusedPage page={page} title={page.t(found ? "console.not_found_title" : "console.forbidden_title")} body={page.t(found ? "console.not_found_body" : "console.forbidden_body")} />, found ? 404 : 403);
			return undefined;
		}
		if (destructive && !session.fresh) {
			reply.redirect(`/console/step-up?${new URLSearchParams({ next: base ?? "/console" })}`, 303);
			return undefined;
		}
		return { session, ctx, page };
	}

	/**
	 * Runs a service call; undefined when it answered one of the catalog's 404 codes (no such user, factor, webhook or
	 * delivery, within this tenant), which the console shows as its "not found" page.
	 */
	async function unlessNotFound<T>(action: () => Promise<T>): Promise<{ value: T } | undefined> {
		try {
			return { value: await action() };
		} catch (error) {
			if (error instanceof ServiceError && ERROR_CODES[error.code].status === 404) return undefined;
			throw error;
		}
	}

	const notFound = (reply: FastifyReply, page: PageContext): FastifyReply =>
		send(reply, page, <ConsoleRefusedPage page={page} title={page.t("console.not_found_title")} body={page.t("console.not_found_body")} />, 404);

	async function webhookPage(reply: FastifyReply, signedIn: SignedIn, webhookId: string, notice?: string, secret?: { value: string; previousUntil: string }): Promise<FastifyReply> {
		const { session, ctx, page } = signedIn;
		const webhook = (await services.webhooks.list(ctx)).find((row) => row.id === webhookId);
		if (webhook === undefined) return notFound(reply, page);
		const deliveries = await services.webhooks.deliveries(ctx, webhookId, 50);
		return send(
			reply,
			page,
			<ConsoleWebhookPage
				page={page}
				operator={session.operator}
				tenant={{ id: ctx.tenantId, name: ctx.tenantName }}
				webhook={webhook}
				deliveries={deliveries}
				canRetry={roleAllows(session.operator.role, "support")}
				canChange={roleAllows(session.operator.role, "admin")}
				notice={notice}
				secret={secret}
			/>,
		);
	}

	async function userPage(reply: FastifyReply, signedIn: SignedIn, userId: string, errors: FieldError[], status: number, notice?: "console.unlocked" | "console.reset_done" | "console.reset_emailed" | "console.factor_removed"): Promise<FastifyReply> {
		const { session, ctx, page } = signedIn;
		const found = await unlessNotFound(() => services.users.get(ctx, userId));
		if (found === undefined) return notFound(reply, page);
		const user = found.value;
		const events = await services.events.list(ctx, { userId, limit: 20 });
		const view = {
			id: user.id,
			locked: user.locked,
			created_at: user.created_at,
			recovery_codes_remaining: user.recovery_codes_remaining,
			factors: user.factors.map((factor) => ({ id: factor.id, type: factor.type, status: factor.status, label: factor.label, created_at: factor.created_at, last_used_at: factor.last_used_at })),
			events: events.events.map((event) => ({ id: event.id, type: event.type, created_at: event.created_at, data: JSON.stringify(event.data, null, 2) })),
		};
		const canAct = roleAllows(session.operator.role, "support");
		return send(reply, page, <ConsoleUserPage page={page} operator={session.operator} tenant={{ id: ctx.tenantId, name: ctx.tenantName }} user={view} canAct={canAct} errors={errors} notice={notice === undefined ? undefined : page.t(notice)} />, status);
	}

	return async (app) => {
		app.removeAllContentTypeParsers();
		app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 8 * 1024 }, (_request, body, done) => {
			const form: Form = Object.create(null) as Form;
			for (const [name, value] of new URLSearchParams(body as string)) form[name] = value;
			done(null, form);
		});
		app.setErrorHandler((error, request, reply) => {
			request.log.error({ err: error }, "console page failed");
			if (reply.sent || reply.raw.headersSent) return;
			return stop(request, reply, 500);
		});

		app.get(ENROLL_SCRIPT, { schema: { hide: true } }, async (_request, reply) =>
			reply.headers({ "x-content-type-options": "nosniff", "cache-control": "public, max-age=300", "cross-origin-resource-policy": "same-origin" }).type("text/javascript; charset=utf-8").send(CONSOLE_ENROLL_SCRIPT),
		);

		app.get("/console", { schema: { hide: true } }, async (request, reply) => {
			const session = await services.console.readSession(cookieOf(request, SESSION_COOKIE));
			if (session === undefined) return reply.redirect("/console/sign-in", 303);
			const page = pageContext(request, csrfCookieFor(request, reply));
			const tenants = await services.console.tenants(session.operator);
			return send(reply, page, <ConsoleHomePage page={page} operator={session.operator} tenants={tenants} />);
		});

		// The tenant's overview (issue 16): read from the rollups the fold keeps (services/event-rollups.ts), never the events.
		app.get<{ Params: { tenant: string } }>("/console/t/:tenant", { schema: { hide: true } }, async (request, reply) => {
			const signedIn = await signedInAs(request, reply, request.params.tenant, "viewer");
			if (signedIn === undefined) return reply;
			const { session, ctx, page } = signedIn;
			const overview = await services.console.overview(ctx);
			const labels = (hours: readonly number[]): string[] => hours.map((hour) => shownTime(new Date(hour).toISOString()));
			const view: ConsoleOverviewView = {
				day: { labels: labels(overview.day.hours), values: overview.day.values },
				week: { labels: labels(overview.week.hours), values: overview.week.values },
				gauges: { any: overview.gauges["users.any"], totp: overview.gauges["users.totp"], hotp: overview.gauges["users.hotp"], webauthn: overview.gauges["users.webauthn"] },
				webhooks: overview.webhooks.map((webhook) => ({ ...webhook, oldest: webhook.oldest === null ? null : new Date(webhook.oldest).toISOString() })),
				pendingEvents: overview.pendingEvents,
			};
			return send(reply, page, <ConsoleOverviewPage page={page} operator={session.operator} tenant={{ id: ctx.tenantId, name: ctx.tenantName }} overview={view} />);
		});

		type UserParams = { tenant: string; user: string };
		type ListQuery = { q?: string; locked?: string; after?: string; erased?: string };

		app.get<{ Params: { tenant: string }; Querystring: ListQuery }>("/console/t/:tenant/users", { schema: { hide: true } }, async (request, reply) => {
			const signedIn = await signedInAs(request, reply, request.params.tenant, "viewer");
			if (signedIn === undefined) return reply;
			const { session, ctx, page } = signedIn;
			const q = typeof request.query.q === "string" ? request.query.q.trim().slice(0, 128) : "";
			const locked = request.query.locked === "1";
			const after = typeof request.query.after === "string" && request.query.after.length <= 400 ? request.query.after : undefined;
			const listed = await services.console.users(ctx, { ...(q === "" ? {} : { prefix: q }), lockedOnly: locked, ...(after === undefined ? {} : { after }), limit: USERS_PER_PAGE });
			const erased = typeof request.query.erased === "string" ? request.query.erased.slice(0, 128) : undefined;
			const notice = erased === undefined ? undefined : page.t("console.erased", { user: erased });
			return send(reply, page, <ConsoleUsersPage page={page} operator={session.operator} tenant={{ id: ctx.tenantId, name: ctx.tenantName }} query={{ q, locked }} users={listed.users} next={listed.next} notice={notice} />);
		});

		app.get<{ Params: UserParams; Querystring: { done?: string } }>("/console/t/:tenant/users/:user", { schema: { hide: true } }, async (request, reply) => {
			const signedIn = await signedInAs(request, reply, request.params.tenant, "viewer", userBase(request.params));
			if (signedIn === undefined) return reply;
			const notices = { unlocked: "console.unlocked", reset: "console.reset_done", reset_emailed: "console.reset_emailed", removed: "console.factor_removed" } as const;
			const done = request.query.done;
			const notice = done === "unlocked" || done === "reset" || done === "reset_emailed" || done === "removed" ? notices[done] : undefined;
			return userPage(reply, signedIn, request.params.user, [], 200, notice);
		});

		app.post<{ Params: UserParams; Body: Form }>("/console/t/:tenant/users/:user/unlock", { schema: { hide: true } }, async (request, reply) => {
			if (!csrfValid(request)) return stop(request, reply, 403);
			const signedIn = await signedInAs(request, reply, request.params.tenant, "support", userBase(request.params), true);
			if (signedIn === undefined) return reply;
			const { count, resetsAt } = await options.counters.hit(`console-unlock:${signedIn.session.operator.id}`, HOUR_MS, now());
			if (count > CONSOLE_UNLOCKS_PER_HOUR) {
				const minutes = Math.max(1, Math.ceil((resetsAt - now()) / 60_000));
				reply.header("retry-after", String(Math.ceil((resetsAt - now()) / 1000)));
				return userPage(reply, signedIn, request.params.user, [{ field: null, key: "console.error.too_many_unlocks", values: { limit: CONSOLE_UNLOCKS_PER_HOUR, minutes } }], 429);
			}
			if (!(await unlessNotFound(() => services.users.unlock(signedIn.ctx, request.params.user)))) return notFound(reply, signedIn.page);
			return reply.redirect(`${userBase(request.params)}?done=unlocked`, 303);
		});

		app.post<{ Params: UserParams; Body: Form }>("/console/t/:tenant/users/:user/reset", { schema: { hide: true } }, async (request, reply) => {
			if (!csrfValid(request)) return stop(request, reply, 403);
			const signedIn = await signedInAs(request, reply, request.params.tenant, "support", userBase(request.params), true);
			if (signedIn === undefined) return reply;
			const reason = (request.body.reason ?? "").trim();
			if (reason.length === 0 || reason.length > 500) return userPage(reply, signedIn, request.params.user, [{ field: "reason", key: "console.error.reason_required" }], 400);
			// The same service as POST /v1/users/{id}/reset: factors and codes removed, challenges revoked, the audit event
			// naming the operator, and the user's security notice (webhook) always (R-LC-5).
			// An optional address for the email notice (the tenant's stored one is used without it, R-LC-5).
			const notify = (request.body.notify ?? "").trim();
			if (notify.length > 320) return userPage(reply, signedIn, request.params.user, [{ field: "notify", key: "console.error.notify_invalid" }], 400);
			let result: { value: Awaited<ReturnType<typeof services.users.reset>> } | undefined;
			try {
				result = await unlessNotFound(() => services.users.reset(signedIn.ctx, request.params.user, { reason, ...(notify === "" ? {} : { notify_email: notify }) }));
			} catch (error) {
				if (error instanceof ServiceError && (error.code === "invalid_email_address" || error.code === "email_not_configured")) {
					const key = error.code === "invalid_email_address" ? "console.error.notify_invalid" : "console.error.notify_no_mail";
					return userPage(reply, signedIn, request.params.user, [{ field: "notify", key }], 400);
				}
				throw error;
			}
			if (result === undefined) return notFound(reply, signedIn.page);
			return reply.redirect(`${userBase(request.params)}?done=${result.value.emailed ? "reset_emailed" : "reset"}`, 303);
		});

		app.post<{ Params: UserParams; Body: Form }>("/console/t/:tenant/users/:user/remove-factor", { schema: { hide: true } }, async (request, reply) => {
			if (!csrfValid(request)) return stop(request, reply, 403);
			const signedIn = await signedInAs(request, reply, request.params.tenant, "support", userBase(request.params), true);
			if (signedIn === undefined) return reply;
			const reason = (request.body.reason ?? "").trim();
			const factorId = request.body.factor ?? "";
			if (reason.length === 0 || reason.length > 500) return userPage(reply, signedIn, request.params.user, [{ field: "remove-reason", key: "console.error.remove_reason_required" }], 400);
			// The admin path of DELETE /v1/users/{id}/factors/{factor_id}: a reason instead of the user's proof, audited.
			if (!(await unlessNotFound(() => services.factors.delete(signedIn.ctx, request.params.user, factorId, { reason })))) return notFound(reply, signedIn.page);
			return reply.redirect(`${userBase(request.params)}?done=removed`, 303);
		});

		app.post<{ Params: UserParams; Body: Form }>("/console/t/:tenant/users/:user/erase", { schema: { hide: true } }, async (request, reply) => {
			if (!csrfValid(request)) return stop(request, reply, 403);
			const signedIn = await signedInAs(request, reply, request.params.tenant, "support", userBase(request.params), true);
			if (signedIn === undefined) return reply;
			// The id typed again: an erase is not undone, so a slip of the mouse must not do it.
			if (request.body.confirm !== request.params.user) return userPage(reply, signedIn, request.params.user, [{ field: "confirm-id", key: "console.error.erase_confirm" }], 400);
			if (!(await unlessNotFound(() => services.users.delete(signedIn.ctx, request.params.user)))) return notFound(reply, signedIn.page);
			return reply.redirect(`/console/t/${encodeURIComponent(request.params.tenant)}/users?${new URLSearchParams({ erased: request.params.user })}`, 303);
		});

		type WebhookParams = { tenant: string; webhook: string };
		const webhookBase = (params: WebhookParams): string => `/console/t/${encodeURIComponent(params.tenant)}/webhooks/${encodeURIComponent(params.webhook)}`;

		app.get<{ Params: { tenant: string } }>("/console/t/:tenant/webhooks", { schema: { hide: true } }, async (request, reply) => {
			const signedIn = await signedInAs(request, reply, request.params.tenant, "viewer");
			if (signedIn === undefined) return reply;
			const { session, ctx, page } = signedIn;
			const webhooks = await services.webhooks.list(ctx);
			return send(reply, page, <ConsoleWebhooksPage page={page} operator={session.operator} tenant={{ id: ctx.tenantId, name: ctx.tenantName }} webhooks={webhooks} />);
		});

		app.get<{ Params: WebhookParams; Querystring: { done?: string } }>("/console/t/:tenant/webhooks/:webhook", { schema: { hide: true } }, async (request, reply) => {
			const signedIn = await signedInAs(request, reply, request.params.tenant, "viewer", webhookBase(request.params));
			if (signedIn === undefined) return reply;
			const notices = { enabled: "console.webhook_now_enabled", disabled: "console.webhook_now_disabled", retried: "console.delivery_retried" } as const;
			const done = request.query.done;
			return webhookPage(reply, signedIn, request.params.webhook, done === "enabled" || done === "disabled" || done === "retried" ? signedIn.page.t(notices[done]) : undefined);
		});

		for (const [action, enabled] of [["enable", true], ["disable", false]] as const) {
			app.post<{ Params: WebhookParams; Body: Form }>(`/console/t/:tenant/webhooks/:webhook/${action}`, { schema: { hide: true } }, async (request, reply) => {
				if (!csrfValid(request)) return stop(request, reply, 403);
				const signedIn = await signedInAs(request, reply, request.params.tenant, "admin", webhookBase(request.params), true);
				if (signedIn === undefined) return reply;
				if (!(await unlessNotFound(() => services.webhooks.update(signedIn.ctx, request.params.webhook, { enabled })))) return notFound(reply, signedIn.page);
				return reply.redirect(`${webhookBase(request.params)}?done=${enabled ? "enabled" : "disabled"}`, 303);
			});
		}

		app.post<{ Params: WebhookParams; Body: Form }>("/console/t/:tenant/webhooks/:webhook/rotate", { schema: { hide: true } }, async (request, reply) => {
			if (!csrfValid(request)) return stop(request, reply, 403);
			const signedIn = await signedInAs(request, reply, request.params.tenant, "admin", webhookBase(request.params), true);
			if (signedIn === undefined) return reply;
			const rotated = await unlessNotFound(() => services.webhooks.rotateSecret(signedIn.ctx, request.params.webhook));
			if (rotated === undefined) return notFound(reply, signedIn.page);
			// Shown in this answer only (no-store): never in a URL, a redirect or a later page.
			return webhookPage(reply, signedIn, request.params.webhook, undefined, { value: rotated.value.secret, previousUntil: rotated.value.previous_secret_expires_at });
		});

		app.post<{ Params: WebhookParams & { delivery: string }; Body: Form }>("/console/t/:tenant/webhooks/:webhook/deliveries/:delivery/retry", { schema: { hide: true } }, async (request, reply) => {
			if (!csrfValid(request)) return stop(request, reply, 403);
			// A retry sends what was due anyway, to the endpoint the tenant configured: support may, without a step-up.
			const signedIn = await signedInAs(request, reply, request.params.tenant, "support", webhookBase(request.params));
			if (signedIn === undefined) return reply;
			if (!(await unlessNotFound(() => services.webhooks.retry(signedIn.ctx, request.params.webhook, request.params.delivery)))) return notFound(reply, signedIn.page);
			return reply.redirect(`${webhookBase(request.params)}?done=retried`, 303);
		});

		const keysBase = (tenant: string): string => `/console/t/${encodeURIComponent(tenant)}/keys`;
		const keysPage = async (reply: FastifyReply, signedIn: SignedIn, notice?: string, created?: { token: string; scope: string }): Promise<FastifyReply> => {
			const { session, ctx, page } = signedIn;
			const keys = (await services.apiKeys.list(ctx.tenantId)) ?? [];
			return send(reply, page, <ConsoleKeysPage page={page} operator={session.operator} tenant={{ id: ctx.tenantId, name: ctx.tenantName }} keys={keys} canChange={roleAllows(session.operator.role, "admin")} notice={notice} created={created} />);
		};

		app.get<{ Params: { tenant: string }; Querystring: { done?: string } }>("/console/t/:tenant/keys", { schema: { hide: true } }, async (request, reply) => {
			const signedIn = await signedInAs(request, reply, request.params.tenant, "viewer", keysBase(request.params.tenant));
			if (signedIn === undefined) return reply;
			return keysPage(reply, signedIn, request.query.done === "revoked" ? signedIn.page.t("console.key_revoked") : undefined);
		});

		app.post<{ Params: { tenant: string }; Body: Form }>("/console/t/:tenant/keys/create", { schema: { hide: true } }, async (request, reply) => {
			if (!csrfValid(request)) return stop(request, reply, 403);
			const signedIn = await signedInAs(request, reply, request.params.tenant, "admin", keysBase(request.params.tenant), true);
			if (signedIn === undefined) return reply;
			const scope = request.body.scope === "admin" ? "admin" : "default";
			const created = await services.apiKeys.create(signedIn.ctx.tenantId, scope, signedIn.ctx.actor);
			// The key is in this answer only (no-store): never in a URL, a redirect or a later page.
			return keysPage(reply, signedIn, undefined, { token: created.token, scope });
		});

		app.post<{ Params: { tenant: string; key: string }; Body: Form }>("/console/t/:tenant/keys/:key/revoke", { schema: { hide: true } }, async (request, reply) => {
			if (!csrfValid(request)) return stop(request, reply, 403);
			const signedIn = await signedInAs(request, reply, request.params.tenant, "admin", keysBase(request.params.tenant), true);
			if (signedIn === undefined) return reply;
			// Only a key of this tenant: a key id of another tenant edited into the URL is not found.
			if (!(await services.apiKeys.revoke(request.params.key, { tenantId: signedIn.ctx.tenantId, actor: signedIn.ctx.actor! }))) return notFound(reply, signedIn.page);
			return reply.redirect(`${keysBase(request.params.tenant)}?done=revoked`, 303);
		});

		type EventsQuery = { type?: string; user?: string; operator?: string; from?: string; to?: string; before?: string };
		app.get<{ Params: { tenant: string }; Querystring: EventsQuery }>("/console/t/:tenant/events", { schema: { hide: true } }, async (request, reply) => {
			const signedIn = await signedInAs(request, reply, request.params.tenant, "viewer");
			if (signedIn === undefined) return reply;
			const { session, ctx, page } = signedIn;
			const text = (value: unknown, max: number): string => (typeof value === "string" ? value.trim().slice(0, max) : "");
			const day = (value: string): number | undefined => (/^\d{4}-\d{2}-\d{2}$/.test(value) && Number.isFinite(Date.parse(`${value}T00:00:00Z`)) ? Date.parse(`${value}T00:00:00Z`) : undefined);
			const filters = { type: text(request.query.type, 64), user: text(request.query.user, 128), operator: text(request.query.operator, 64), from: text(request.query.from, 10), to: text(request.query.to, 10) };
			const type = (EVENT_TYPES as readonly string[]).includes(filters.type) ? filters.type : undefined;
			const from = day(filters.from);
			const to = day(filters.to);
			const before = /^\d{1,15}$/.test(request.query.before ?? "") ? Number(request.query.before) : undefined;
			// An operator's name resolves to their id; a name that is nobody's matches no event.
			const operatorId = filters.operator === "" ? undefined : ((await services.deps.store.operators.findByName(filters.operator))?.id ?? "opr_none");
			const listed = await services.events.list(ctx, {
				limit: 50,
				...(type === undefined ? {} : { type }),
				...(filters.user === "" ? {} : { userId: filters.user }),
				...(operatorId === undefined ? {} : { operatorId }),
				...(from === undefined ? {} : { from }),
				...(to === undefined ? {} : { until: to + 24 * 60 * 60_000 }),
				...(before === undefined ? {} : { beforeSeq: before }),
			});
			const events = listed.events.map((event) => {
				const actor = event.data.actor as { name?: unknown } | undefined;
				const by = typeof actor?.name === "string" ? actor.name : typeof event.data.actor_key_id === "string" ? event.data.actor_key_id : null;
				return { id: event.id, type: event.type, user_id: event.user_id, factor_id: event.factor_id, created_at: event.created_at, by, data: JSON.stringify(event.data, null, 2) };
			});
			const older = listed.next_cursor === null ? undefined : new URLSearchParams({ ...Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== "")), before: listed.next_cursor }).toString();
			return send(reply, page, <ConsoleEventsPage page={page} operator={session.operator} tenant={{ id: ctx.tenantId, name: ctx.tenantName }} types={[...new Set(EVENT_TYPES)]} filters={filters} events={events} older={older} />);
		});

		const settingsBase = (tenant: string): string => `/console/t/${encodeURIComponent(tenant)}/settings`;
		const settingsForm = (settings: TenantContext["settings"]): ConsoleSettingsForm => ({
			throttle_after: String(settings.attempts.throttle_after),
			lock_after: String(settings.attempts.lock_after),
			totp_window: String(settings.totp.window),
			no_factor_policy: settings.prompt.no_factor_policy,
			support_text: settings.prompt.support_text ?? "",
			support_url: settings.prompt.support_url ?? "",
			display_name: settings.branding.display_name ?? "",
			primary_color: settings.branding.primary_color ?? "",
		});
		const settingsPage = async (reply: FastifyReply, signedIn: SignedIn, form?: ConsoleSettingsForm, errors: FieldError[] = [], status = 200, notice?: string): Promise<FastifyReply> => {
			const { session, ctx, page } = signedIn;
			const view = services.tenants.view(ctx);
			return send(
				reply,
				page,
				<ConsoleSettingsPage page={page} operator={session.operator} tenant={{ id: ctx.tenantId, name: ctx.tenantName }} form={form ?? settingsForm(ctx.settings)} all={JSON.stringify(view.settings, null, 2)} canChange={roleAllows(session.operator.role, "admin")} errors={errors} notice={notice} />,
				status,
			);
		};

		app.get<{ Params: { tenant: string }; Querystring: { done?: string } }>("/console/t/:tenant/settings", { schema: { hide: true } }, async (request, reply) => {
			const signedIn = await signedInAs(request, reply, request.params.tenant, "viewer", settingsBase(request.params.tenant));
			if (signedIn === undefined) return reply;
			return settingsPage(reply, signedIn, undefined, [], 200, request.query.done === "saved" ? signedIn.page.t("console.settings_saved") : undefined);
		});

		app.post<{ Params: { tenant: string }; Body: Form }>("/console/t/:tenant/settings", { schema: { hide: true } }, async (request, reply) => {
			if (!csrfValid(request)) return stop(request, reply, 403);
			// Every change of settings is treated as security-relevant (the attempt policy, the no-factor policy): step-up.
			const signedIn = await signedInAs(request, reply, request.params.tenant, "admin", settingsBase(request.params.tenant), true);
			if (signedIn === undefined) return reply;
			const body = request.body;
			const form: ConsoleSettingsForm = {
				throttle_after: (body.throttle_after ?? "").trim(),
				lock_after: (body.lock_after ?? "").trim(),
				totp_window: (body.totp_window ?? "").trim(),
				no_factor_policy: body.no_factor_policy ?? "",
				support_text: (body.support_text ?? "").trim(),
				support_url: (body.support_url ?? "").trim(),
				display_name: (body.display_name ?? "").trim(),
				primary_color: (body.primary_color ?? "").trim(),
			};
			const integer = (value: string): number | string => (/^\d{1,6}$/.test(value) ? Number(value) : value);
			const text = (value: string): string | null => (value === "" ? null : value);
			const patch = {
				attempts: { throttle_after: integer(form.throttle_after), lock_after: integer(form.lock_after) },
				totp: { window: integer(form.totp_window) },
				prompt: { no_factor_policy: form.no_factor_policy, support_text: text(form.support_text), support_url: text(form.support_url) },
				branding: { display_name: text(form.display_name), primary_color: text(form.primary_color) },
			};
			// The API's own request schema (its bounds: lock at most 100, a window of at most 1 step, R-OTP-2/6) checks the
			// patch here too, since the service relies on it; then the service's own checks.
			const FIELDS: Record<string, keyof ConsoleSettingsForm> = {
				"/attempts/throttle_after": "throttle_after",
				"/attempts/lock_after": "lock_after",
				"/totp/window": "totp_window",
				"/prompt/no_factor_policy": "no_factor_policy",
				"/prompt/support_text": "support_text",
				"/prompt/support_url": "support_url",
				"/branding/display_name": "display_name",
				"/branding/primary_color": "primary_color",
			};
			const problems = [...Value.Errors(TenantPatch, patch)];
			const errors: FieldError[] = [];
			for (const problem of problems) {
				const field = Object.entries(FIELDS).find(([pointer]) => problem.path.startsWith(pointer))?.[1] ?? null;
				if (errors.some((error) => error.field === field)) continue;
				errors.push({ field, key: "console.error.setting_invalid", values: { detail: problem.message } });
			}
			if (errors.length > 0) return settingsPage(reply, signedIn, form, errors, 400);
			try {
				await services.tenants.update(signedIn.ctx, patch as never);
			} catch (error) {
				if (!(error instanceof ServiceError) || (error.code !== "invalid_request" && error.code !== "invalid_webauthn_settings")) throw error;
				const pointer = error.details?.[0]?.pointer ?? "";
				return settingsPage(reply, signedIn, form, [{ field: FIELDS[pointer] ?? null, key: "console.error.setting_invalid", values: { detail: error.details?.[0]?.message ?? error.message } }], 400);
			}
			return reply.redirect(`${settingsBase(request.params.tenant)}?done=saved`, 303);
		});

		app.get<{ Querystring: { next?: string } }>("/console/step-up", { schema: { hide: true } }, async (request, reply) => {
			const session = await services.console.readSession(cookieOf(request, SESSION_COOKIE));
			if (session === undefined) return reply.redirect("/console/sign-in", 303);
			const page = pageContext(request, csrfCookieFor(request, reply));
			return send(reply, page, <ConsoleStepUpPage page={page} operator={session.operator} next={consolePath(request.query.next)} />);
		});

		app.post<{ Body: Form }>("/console/step-up", { schema: { hide: true } }, async (request, reply) => {
			if (!csrfValid(request)) return stop(request, reply, 403);
			const session = await services.console.readSession(cookieOf(request, SESSION_COOKIE));
			if (session === undefined) return reply.redirect("/console/sign-in", 303);
			const client = await services.console.client();
			if (client === undefined) return reply.redirect("/console/sign-in", 303);
			return startFlow(reply, client, "step-up", session.operator.name, consolePath(request.body.next));
		});

		app.get<{ Querystring: { signed_out?: string } }>("/console/sign-in", { schema: { hide: true } }, async (request, reply) =>
			signInPage(request, reply, [], 200, undefined, request.query.signed_out === "1" ? "console.signed_out" : undefined),
		);

		app.post<{ Body: Form }>("/console/sign-in", { schema: { hide: true } }, async (request, reply) => {
			if (!csrfValid(request)) return stop(request, reply, 403);
			const name = (request.body.name ?? "").trim();
			if (!isOperatorName(name)) return signInPage(request, reply, [{ field: "name", key: "console.error.name_invalid" }], 400, name.slice(0, 64));
			const client = await services.console.client();
			if (client === undefined) return signInPage(request, reply, [{ field: null, key: "console.no_operators" }], 409, name);
			if (!client.passkeysUsable) return signInPage(request, reply, [{ field: null, key: "console.passkeys_unavailable" }], 409, name);
			// Every well-formed name goes to the prompt: an unknown one ends there (the system tenant denies a user with
			// no factor), so this page says nothing about which names exist.
			return startFlow(reply, client, "sign-in", name);
		});

		app.get("/console/enroll", { schema: { hide: true } }, async (request, reply) => enrollPage(request, reply));

		app.post<{ Body: Form }>("/console/enroll", { schema: { hide: true } }, async (request, reply) => {
			if (!csrfValid(request)) return stop(request, reply, 403);
			const client = await services.console.client();
			if (client !== undefined && !client.passkeysUsable) return enrollPage(request, reply, [{ field: null, key: "console.passkeys_unavailable" }], 409);
			// Spent here, once (a conditional update decides): a second use, an expired or replaced link opens nothing.
			const operator = client === undefined ? undefined : await services.operators.redeemEnrollment((request.body.token ?? "").trim());
			if (client === undefined || operator === undefined) return enrollPage(request, reply, [{ field: "token", key: "console.enroll_invalid" }], 400);
			return startFlow(reply, client, "enroll", operator.name);
		});

		app.get<{ Querystring: Record<string, string | undefined> }>("/console/callback", { schema: { hide: true } }, async (request, reply) => {
			const flow = openFlow(cookieOf(request, FLOW_COOKIE));
			reply.header("set-cookie", cleared(FLOW_COOKIE));
			const failed = (): FastifyReply => signInPage(request, reply, [{ field: null, key: "console.sign_in_failed" }], 400);
			const client = await services.console.client();
			const { state, iss, code } = request.query;
			// RFC 9207: the answer is from our own issuer; the state is this browser's flow (the cookie only it holds).
			if (flow === undefined || client === undefined || typeof state !== "string" || !constantTimeEqual(state, flow.state)) return failed();
			if (iss !== options.providers.issuerOf(client.tenantId) || typeof code !== "string" || code.length === 0) return failed();
			const name = await finishFlow(client, flow, code);
			if (name === undefined) return failed();
			if (flow.purpose === "step-up") {
				// A fresh proof for the session it was asked from: the same browser's session, of the same operator.
				const sessionCookie = cookieOf(request, SESSION_COOKIE);
				const session = await services.console.readSession(sessionCookie);
				if (session === undefined || session.operator.name !== name || sessionCookie === undefined) return failed();
				await services.console.recordStepUp(sessionCookie);
				return reply.redirect(consolePath(flow.next), 303);
			}
			const started = await services.console.startSession(name);
			if (started === undefined) return failed();
			reply.header("set-cookie", cookie(SESSION_COOKIE, started.cookie));
			return reply.redirect("/console", 303);
		});

		app.post<{ Body: Form }>("/console/sign-out", { schema: { hide: true } }, async (request, reply) => {
			if (!csrfValid(request)) return stop(request, reply, 403);
			await services.console.endSession(cookieOf(request, SESSION_COOKIE));
			reply.header("set-cookie", cleared(SESSION_COOKIE));
			return reply.redirect("/console/sign-in?signed_out=1", 303);
		});
	};
}
