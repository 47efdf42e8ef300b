import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { described, errorResponses } from "../../contract/schemas/common.js";
import { JWKS, RedeemBody, RedeemResponse } from "../../contract/schemas/assertions.js";
import type { Services } from "../../services/services.js";
import { tenantOf } from "../auth.js";

/** GET /.well-known/jwks.json: public, outside /v1, so verifiers fetch it without an API key. */
export function jwksRoutes(services: Services): FastifyPluginAsyncTypebox {
	return async (app) => {
		app.get(
			"/.well-known/jwks.json",
			{ schema: { tags: ["assertions"], summary: "The public keys that sign step-up assertions (the active key and retired keys whose assertions may still be live).", response: { 200: described("The JWK Set (RFC 7517); cacheable.", JWKS) } } },
			// A short cache: a verifier refetches on an unknown kid anyway, and a rotation must reach it within minutes.
			async (_request, reply) => reply.header("cache-control", "public, max-age=60").send(await services.assertions.jwks()),
		);
	};
}

export function assertionRoutes(services: Services): FastifyPluginAsyncTypebox {
	return async (app) => {
		app.post(
			"/assertions/redeem",
			{
				schema: {
					tags: ["assertions"],
					summary: "Single use (R-AS-5): marks the assertion's jti used; a second redemption is 409 assertion_redeemed.",
					security: [{ apiKey: [] }],
					body: RedeemBody,
					response: { 200: described("Redeemed now: the assertion's claims. A second redeem answers assertion_redeemed.", RedeemResponse), ...errorResponses },
				},
			},
			async (request) => services.assertions.redeem(tenantOf(request), request.body.assertion),
		);
	};
}
