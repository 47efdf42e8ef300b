import type { Static } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { errorResponses, UserParams } from "../../contract/schemas/common.js";
import { VerifyBody, VerifyResponse } from "../../contract/schemas/verifications.js";
import type { Services } from "../../services/services.js";
import { tenantOf } from "../auth.js";

export function verificationRoutes(services: Services): FastifyPluginAsync {
	return async (app) => {
		app.post(
			"/users/:user_id/verify",
			{
				schema: {
					tags: ["verifications"],
					summary: "Verify a TOTP or recovery code, exactly once. Any failure is a 4xx; only success is 200.",
					security: [{ apiKey: [] }],
					params: UserParams,
					body: VerifyBody,
					response: { 200: VerifyResponse, ...errorResponses },
				},
			},
			async (request) => {
				const { user_id } = request.params as Static<typeof UserParams>;
				const body = request.body as Static<typeof VerifyBody>;
				const input = body.factor_id === undefined ? { code: body.code } : { code: body.code, factorId: body.factor_id };
				return services.verifications.verify(tenantOf(request), user_id, input);
			},
		);
	};
}
