import swagger from "@fastify/swagger";
import swaggerUI from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance } from "fastify";
import { ErrorBody } from "../contract/schemas/common.js";
import type { Services } from "../services/services.js";
import type { StoreHandle } from "../store/kysely-store.js";
import { apiKeyAuth } from "./auth.js";
import { handleError, sendError } from "./errors.js";
import { registerMetrics } from "./metrics.js";
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
		// Client addresses come only from the socket until trusted proxies are configured (V-5a).
		trustProxy: false,
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

	await app.register(healthRoutes(store, () => services.deps.clockTrusted()));
	registerMetrics(app, services);
	// Outside the /v1 scope below, so the API-key hook does not apply: pages load it directly.
	await app.register(browserHelperRoutes());
	await app.register(jwksRoutes(services));
	app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

	await app.register(
		async (v1) => {
			v1.addHook("onRequest", apiKeyAuth(services));
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
