import swagger from "@fastify/swagger";
import swaggerUI from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance } from "fastify";
import { ErrorBody } from "../contract/schemas/common.js";
import type { RateCounters } from "../services/rate-counters.js";
import type { Services } from "../services/services.js";
import type { StoreHandle } from "../store/kysely-store.js";
import { apiKeyAuth } from "./auth.js";
import { handleError, sendError } from "./errors.js";
import { registerGracefulClose } from "./graceful-close.js";
import { registerMetrics } from "./metrics.js";
import { rateLimitHook } from "./rate-limit.js";
import { assertionRoutes, jwksRoutes } from "./routes/assertions.js";
import { browserHelperRoutes } from "./routes/browser-helper.js";
import { eventRoutes } from "./routes/events.js";
import { factorRoutes } from "./routes/factors.js";
import { healthRoutes } from "./routes/health.js";
import { tenantRoutes } from "./routes/tenant.js";
import { userRoutes } from "./routes/users.js";
import { verificationRoutes } from "./routes/verifications.js";
import { webhookRoutes } from "./routes/webhooks.js";

export interface HTTPOptions {
	logger: boolean | object;
	/** Addresses and ranges whose X-Forwarded-For is believed (V-5a). */
	trustedProxies: readonly string[];
	/** Request rate limits per minute; 0 is off. */
	rateLimits: { perIPPerMinute: number; perTenantPerMinute: number; counters: RateCounters };
}

/** Builds the Fastify app over the services. Never listens; main.ts and tests decide that. */
export async function buildHTTPServer(services: Services, store: StoreHandle, options: HTTPOptions): Promise<FastifyInstance> {
	const app = Fastify({
		logger:
			typeof options.logger === "object"
				? { ...options.logger, redact: { paths: ["req.headers.authorization"], censor: "[redacted]" } }
				: options.logger,
		bodyLimit: 64 * 1024,
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
			},
		},
	});
	app.decorateRequest("tenant", null as never);
	// JSON only: a text/plain body would otherwise reach validation as a string.
	app.removeContentTypeParser("text/plain");
	app.setErrorHandler(handleError);
	registerGracefulClose(app);
	app.setNotFoundHandler((_request, reply) => sendError(reply, "not_found"));
	app.addSchema(ErrorBody);

	await app.register(swagger, {
		openapi: {
			openapi: "3.1.0",
			info: {
				title: "Twofold",
				version: "1",
				description: "Self-hosted two-factor authentication: enroll, verify exactly once, recover. Errors are listed in docs/errors.md.",
			},
			components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "A tenant API key: tfk_…" } } },
		},
	});
	await app.register(swaggerUI, { routePrefix: "/docs" });

	await app.register(healthRoutes(store, () => services.deps.clockTrusted(), () => options.rateLimits.counters.healthy()));
	registerMetrics(app, services);
	// Outside the /v1 scope below, so the API-key hook does not apply: pages load it directly.
	await app.register(browserHelperRoutes());
	await app.register(jwksRoutes(services));
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
			await v1.register(factorRoutes(services));
			await v1.register(verificationRoutes(services));
			await v1.register(userRoutes(services));
			await v1.register(eventRoutes(services));
			await v1.register(tenantRoutes(services));
			await v1.register(assertionRoutes(services));
			await v1.register(webhookRoutes(services));
		},
		{ prefix: "/v1" },
	);
	return app;
}
