import swagger from "@fastify/swagger";
import swaggerUI from "@fastify/swagger-ui";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { ERROR_CODES, type ErrorCode } from "../contract/errors.js";
import { NAMED_SCHEMAS } from "../contract/schemas/components.js";
import { ERRORS_LINK } from "../contract/schemas/docs-links.js";
import { urlForLog } from "../core/log-url.js";
import type { RateCounters } from "../rate-counters/rate-counters.js";
import type { Services } from "../services/services.js";
import { apiKeyAuth } from "./auth.js";
import { type ConnectionGuard, guardConnections } from "./connection-guard.js";
import { handleError, sendError } from "./errors.js";
import { registerGracefulClose } from "./graceful-close.js";
import { registerMetrics } from "./metrics.js";
import { logoRoutes, publicLogoRoutes } from "./routes/logos.js";
import { rateLimitHook } from "./rate-limit.js";
import { promptRateLimitRefusal } from "./prompt-rate-limit.js";
import { assertionRoutes, jwksRoutes } from "./routes/assertions.js";
import { browserHelperRoutes } from "./routes/browser-helper.js";
import { promptAssetRoutes } from "./routes/prompt-assets.js";
import { type PromptPageOptions, promptPageRoutes } from "./routes/prompt-pages.js";
import { errorCatalogRoutes } from "./routes/error-catalog.js";
import { eventRoutes } from "./routes/events.js";
import { factorRoutes } from "./routes/factors.js";
import { type DatabaseProbe, healthRoutes } from "./routes/health.js";
import { tenantRoutes } from "./routes/tenant.js";
import { userRoutes } from "./routes/users.js";
import { verificationRoutes } from "./routes/verifications.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { importRoutes, PSKC_KEY_HEADER, PSKC_PASSPHRASE_HEADER } from "./routes/imports.js";
import type { LongUploads, UploadBounds } from "./upload-bounds.js";
import { clientRoutes } from "./routes/clients.js";
import { oidcRoutes } from "./routes/oidc.js";
import { consoleRoutes } from "./routes/console.js";
import type { OIDCProviders } from "../oidc/providers.js";
import type { PromptInteractions } from "../oidc/prompt-interaction.js";

/** Slow-client limits (issue 12), read from the configuration (config.ts) and applied here. */
export interface ConnectionLimits {
	/** From a connection's (or a keep-alive request's) first byte to the end of its headers. */
	headersTimeoutMs: number;
	/** From the first byte to the end of the body: headers and body together. */
	requestTimeoutMs: number;
	/** How long an idle keep-alive connection is kept between requests. */
	keepAliveTimeoutMs: number;
	/** Open connections per process; undefined: derived from the open-file limit at start (connection-guard.ts). */
	maxConnections: number | undefined;
}

export interface HTTPOptions {
	logger: boolean | object;
	/** Addresses and ranges whose X-Forwarded-For is believed (V-5a). */
	trustedProxies: readonly string[];
	/** Request rate limits per minute; 0 is off. */
	rateLimits: { perIPPerMinute: number; perTenantPerMinute: number; counters: RateCounters };
	/** Enrollments per minute per tenant; 0 is off. */
	enrollPerTenantPerMinute: number;
	/** Timeouts of each phase of a request, and the connection cap (resolved: a number). */
	connections: ConnectionLimits & { maxConnections: number };
	/** POST /v1/imports' own body limit and time bounds (issue 17); default: config.ts's defaults. */
	imports?: UploadBounds;
	/** The hosted prompt (issue 15): the tenants' OpenID Providers, mounted under /t/:tenant/, and the seam the pages use. */
	oidc?: { providers: OIDCProviders; prompt: PromptInteractions };
	/** The hosted prompt's pages (issue 15), when the OpenID Connect provider is wired (it supplies the interactions). */
	prompt?: PromptPageOptions;
}

/**
 * How often Node looks for connections past their headers or request
 * timeout. Node's default is 30 s, which would let a slow client outlive a
 * 10 s timeout by up to 30 s; a quarter of the shortest timeout, within
 * 100 ms to 1 s, keeps the overshoot small for little work.
 */
export function checkingIntervalMs(limits: ConnectionLimits): number {
	return Math.max(100, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)));
}

/** Pino's request serializer, without the query string (R-ST-4: keys put in `?api_key=` were logged). */
const logSerializers = {
	req: (request: FastifyRequest) => ({
		method: request.method,
		url: urlForLog(request.url),
		host: request.host,
		remoteAddress: request.ip,
		remotePort: request.socket?.remotePort,
	}),
};

/**
 * The API reference page: Twofold's title and mark, and nothing from another origin (the page's assets are
 * served by the plugin; the logo is inline; swagger-ui's validator badge, which calls validator.swagger.io, stays off).
 */
const DOCS_PAGE = {
	routePrefix: "/docs",
	theme: { title: "Twofold API reference" },
	logo: {
		type: "image/svg+xml",
		content: Buffer.from(
			'<svg xmlns="http://www.w3.org/2000/svg" width="150" height="40" viewBox="0 0 150 40"><rect x="2" y="8" width="24" height="24" rx="5" fill="none" stroke="#fff" stroke-width="3"/><rect x="10" y="14" width="24" height="24" rx="5" fill="#fff"/><text x="42" y="30" font-family="sans-serif" font-size="22" font-weight="bold" fill="#fff">Twofold</text></svg>',
		),
		href: "/docs",
	},
	uiConfig: { validatorUrl: null },
};

/** Builds the Fastify app over the services. Never listens; main.ts and tests decide that. */
export async function buildHTTPServer(services: Services, database: DatabaseProbe, options: HTTPOptions): Promise<FastifyInstance> {
	const limits = options.connections;
	let guard: ConnectionGuard | undefined;
	const longUploads: LongUploads = new WeakSet();
	const authenticate = apiKeyAuth(services);
	const app = Fastify({
		logger:
			typeof options.logger === "object"
				? { ...options.logger, redact: { paths: ["req.headers.authorization", `req.headers["${PSKC_PASSPHRASE_HEADER}"]`, `req.headers["${PSKC_KEY_HEADER}"]`], censor: "[redacted]" }, serializers: logSerializers }
				: options.logger === true
					? { serializers: logSerializers }
					: options.logger,
		bodyLimit: 64 * 1024,
		// Issue 12 finding 4: every phase of a request is bounded. Node's headersTimeout runs beside
		// Fastify's requestTimeout (headers and body together), both checked every connectionsCheckingInterval;
		// keepAliveTimeout bounds an idle connection between requests. Closed clients get 408 (clientErrorHandler).
		http: { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: checkingIntervalMs(limits) },
		requestTimeout: limits.requestTimeoutMs,
		keepAliveTimeout: limits.keepAliveTimeoutMs,
		clientErrorHandler(error, socket) {
			answerClientError(this as unknown as FastifyInstance, guard, error, socket, longUploads);
		},
		// The router's own errors (bad percent-encoding, an over-long path) answered from the catalog, without
		// the path Fastify would echo, and under /v1 only after the API key: an unauthenticated caller learns nothing else.
		frameworkErrors: (error, request, reply) => {
			void answerRouterError(authenticate, error, request, reply);
		},
		// A 128-character user id may arrive percent-encoded (3 bytes a character).
		routerOptions: { maxParamLength: 400 },
		// V-5a: the client address is the socket's, unless the socket is a configured proxy; then
		// X-Forwarded-For is read from the right, stopping at the first address that is not a trusted proxy.
		trustProxy: options.trustedProxies.length === 0 ? false : [...options.trustedProxies],
		return503OnClosing: true,
		ajv: {
			customOptions: {
				// No coercion: the JSON number 123456 must not become the code "123456" (V-2).
				coerceTypes: false,
				removeAdditional: false,
				useDefaults: false,
				// Every problem of a body, each once (issue 13). Bounded: bodies are at most 64 KiB, and the
				// answer lists at most 20 problems. verbose stays off, so errors never carry the value.
				allErrors: true,
				// EnrollBody and ChallengeBody are oneOf by `type`: only the named variant is checked.
				discriminator: true,
				// Request bodies carry their API-reference examples (contract/schemas/examples.ts); an annotation to Ajv.
				keywords: ["x-examples"],
			},
		},
	});
	guard = guardConnections(app.server, {
		maxConnections: limits.maxConnections,
		now: () => performance.now(),
		onCapReached: ({ maxConnections, evicted, refused }) =>
			app.log.warn(
				{ max_connections: maxConnections, evicted, refused },
				`connection cap reached (TWOFOLD_MAX_CONNECTIONS=${maxConnections}): closed ${evicted} connection(s) that were idle or still sending a request, refused ${refused} new one(s)`,
			),
	});
	app.decorateRequest("tenant", null as never);
	app.addHook("onSend", (request, reply, payload, done) => {
		// Every API answer may carry a secret, an assertion, a recovery code or a TOTP seed: none is stored
		// by a cache. A route that is public and cacheable (the JWKS, the browser helper) says so itself.
		if (!reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
		// An answer given before the body has arrived (401 before the body is read, 413, 415) closes the
		// connection: otherwise Node keeps reading the rest of the body for the next request, at the client's pace.
		if (!request.raw.complete) reply.header("connection", "close");
		done(null, payload);
	});
	// JSON only: a text/plain body would otherwise reach validation as a string.
	app.removeContentTypeParser("text/plain");
	app.setErrorHandler(handleError);
	registerGracefulClose(app);
	// Under /v1 a missing route, like every other /v1 answer, is given only to a caller with a valid key.
	app.setNotFoundHandler(async (request, reply) => {
		if (isV1(request.raw.url)) {
			await authenticate(request, reply);
			if (reply.sent) return reply;
		}
		return sendError(reply, "not_found");
	});
	for (const schema of NAMED_SCHEMAS) app.addSchema(schema);

	await app.register(swagger, {
		openapi: {
			openapi: "3.1.0",
			info: {
				title: "Twofold",
				version: "1",
				description: `Self-hosted two-factor authentication: enroll, verify exactly once, recover. Every error is {"error": {"code", "message"}} with a code from ${ERRORS_LINK}.`,
			},
			components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "A tenant API key: tfk_…" } } },
		},
		// Named schemas keep their $id as their name under components.schemas (not def-0, def-1 …).
		refResolver: { buildLocalReference: (json, _baseUri, _fragment, index) => (typeof json.$id === "string" ? json.$id : `def-${index}`) },
	});
	await app.register(swaggerUI, DOCS_PAGE);

	await app.register(healthRoutes(database, () => services.deps.clockTrusted(), () => options.rateLimits.counters.healthy()));
	registerMetrics(app, services);
	// Outside the /v1 scope below, so the API-key hook does not apply: pages load it directly.
	await app.register(browserHelperRoutes());
	// The prompt's assets: outside /v1 (no API key; the browser is the caller). Its pages are registered below.
	await app.register(promptAssetRoutes(services));
	await app.register(jwksRoutes(services));
	await app.register(errorCatalogRoutes());
	// Public: the prompt's pages show these; the API key is not asked (outside /v1).
	await app.register(publicLogoRoutes(services));
	// The prompt's pages and the tenants' providers under /t/ count against the same per-address limit as /v1 (issue
	// 15: the same counters, so one address has one budget). Refusals are pages for a browser and OAuth JSON for an
	// application's back channel (http/prompt-rate-limit.ts). Assets and logos stay outside, like /healthz: static,
	// cacheable, and fetched by every page view. No per-tenant limit here: the tenant in the path is the caller's
	// choice, so a stranger could spend a tenant's budget and lock its users out.
	await app.register(async (prompt) => {
		const { perIPPerMinute, counters } = options.rateLimits;
		if (perIPPerMinute > 0) {
			const https = (): boolean => options.prompt !== undefined && new URL(options.prompt.publicUrl()).protocol === "https:";
			prompt.addHook(
				"onRequest",
				rateLimitHook("ip", perIPPerMinute, {
					counters,
					clock: services.deps.clock,
					onUnavailable: (error: unknown) => prompt.log.error({ reason: (error as Error).message }, "rate-limit store unavailable: refusing requests (fail closed)"),
					refuse: promptRateLimitRefusal(https),
				}),
			);
		}
		if (options.prompt !== undefined) await prompt.register(promptPageRoutes(services, options.prompt));
		if (options.oidc !== undefined) await prompt.register(oidcRoutes(options.oidc.providers));
		// The operator console (issue 16): a client of the system tenant's prompt, so it needs both.
		if (options.oidc !== undefined && options.prompt !== undefined) {
			await prompt.register(consoleRoutes(services, { root: () => app, providers: options.oidc.providers, publicUrl: options.prompt.publicUrl, counters: options.rateLimits.counters }));
		}
	});
	app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

	await app.register(
		async (v1) => {
			const { perIPPerMinute, perTenantPerMinute, counters } = options.rateLimits;
			const limitOptions = {
				counters,
				clock: services.deps.clock,
				// The message only: a Redis error object can carry the command's arguments, and so a client address.
				onUnavailable: (error: unknown) => v1.log.error({ reason: (error as Error).message }, "rate-limit store unavailable: refusing requests (fail closed)"),
			};
			if (perIPPerMinute > 0) v1.addHook("onRequest", rateLimitHook("ip", perIPPerMinute, limitOptions));
			v1.addHook("onRequest", apiKeyAuth(services));
			if (perTenantPerMinute > 0) v1.addHook("onRequest", rateLimitHook("tenant", perTenantPerMinute, limitOptions));
			const enrollLimit = options.enrollPerTenantPerMinute > 0 ? rateLimitHook("enroll", options.enrollPerTenantPerMinute, limitOptions) : undefined;
			await v1.register(factorRoutes(services, enrollLimit));
			await v1.register(verificationRoutes(services));
			await v1.register(userRoutes(services));
			await v1.register(eventRoutes(services));
			await v1.register(tenantRoutes(services));
			await v1.register(logoRoutes(services));
			await v1.register(assertionRoutes(services));
			await v1.register(webhookRoutes(services));
			await v1.register(clientRoutes(services));
			await v1.register(importRoutes(services, options.imports ?? DEFAULT_IMPORT_BOUNDS, longUploads));
		},
		{ prefix: "/v1" },
	);
	return app;
}

const DEFAULT_IMPORT_BOUNDS: UploadBounds = { maxBytes: 256 * 1024 * 1024, maxMs: 30 * 60_000, idleMs: 60_000 };

const isV1 = (url: string | undefined): boolean => /^\/v1(\/|\?|$)/.test(url ?? "");

async function answerRouterError(
	authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>,
	error: FastifyError,
	request: FastifyRequest,
	reply: FastifyReply,
): Promise<void> {
	try {
		if (isV1(request.raw.url)) {
			await authenticate(request, reply);
			if (reply.sent) return;
		}
		if (error.code === "FST_ERR_MAX_PARAM_LENGTH") await sendError(reply, "uri_too_long");
		// The path is named, never quoted: it may carry anything the client sent.
		else await sendError(reply, "invalid_request", { details: [{ in: "path", pointer: "", message: "is not valid percent-encoding (RFC 3986 §2.1) of UTF-8" }] });
	} catch (cause) {
		request.log.error({ err: cause }, "answering a router error failed");
		if (!reply.sent) await sendError(reply, "internal_error");
	}
}

const CLIENT_ERRORS: Record<string, ErrorCode> = { ERR_HTTP_REQUEST_TIMEOUT: "request_timeout", HPE_HEADER_OVERFLOW: "headers_too_large" };

/**
 * Errors Node's parser raises before there is a request (a timeout, oversized
 * or malformed headers): a catalog body and `Connection: close`, then the
 * socket is closed. When an answer has already begun on the socket (a 401
 * before the body, then the body timed out), nothing more is written.
 */
function answerClientError(app: FastifyInstance, guard: ConnectionGuard | undefined, error: Error & { code?: string }, socket: Socket, longUploads: LongUploads): void {
	if (error.code === "ECONNRESET" || socket.destroyed) return;
	// An admin's upload (POST /v1/imports, marked only after its key was checked) is bounded by its own idle and total
	// limits (http/upload-bounds.ts), not by the request timeout; Node raises this timeout once per request.
	if (error.code === "ERR_HTTP_REQUEST_TIMEOUT" && longUploads.has(socket)) return;
	const code = CLIENT_ERRORS[error.code ?? ""] ?? "invalid_request";
	app.log.debug({ code: error.code }, "client error: closing the connection");
	if (socket.writable && guard?.responseStarted(socket) !== true) {
		const { status, message } = ERROR_CODES[code];
		const body = JSON.stringify({ error: { code, message } });
		socket.end(
			`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
		);
		// end() lets the answer out; a client that does not read it is not waited for.
		setTimeout(() => socket.destroy(), 1000).unref();
		return;
	}
	socket.destroy();
}
