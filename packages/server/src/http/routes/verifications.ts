import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { described, errorResponses, UserParams } from "../../contract/schemas/common.js";
import { ChallengeBody, ChallengeResponse, Verification, VerifyBody } from "../../contract/schemas/verifications.js";
import type { Services } from "../../services/services.js";
import { attemptSnapshotOf, tenantOf } from "../auth.js";

export function verificationRoutes(services: Services): FastifyPluginAsyncTypebox {
	return async (app) => {
		app.post(
			"/users/:user_id/verify",
			{
				// Authentication reads the user's attempt state with the key: a code verify on PostgreSQL is then one more statement (ADR 0009).
				config: { attemptSnapshot: true },
				schema: {
					tags: ["verifications"],
					summary: "Verify a TOTP code, a recovery code or a WebAuthn assertion, exactly once. Any failure is a 4xx; only success is 200.",
					security: [{ apiKey: [] }],
					params: UserParams,
					body: VerifyBody,
					response: { 200: described("Valid, and spent: with a step-up assertion.", Verification), ...errorResponses },
				},
			},
			async (request) => {
				const { user_id } = request.params;
				const { factor_id, ...proof } = request.body;
				return services.verifications.verify(tenantOf(request), user_id, factor_id === undefined ? proof : { ...proof, factorId: factor_id }, attemptSnapshotOf(request));
			},
		);

		app.post(
			"/users/:user_id/challenges",
			{
				schema: {
					tags: ["verifications"],
					summary:
						"Start a WebAuthn authentication (request options for the browser; single use, 5 minutes), or send an email code (low assurance, tenant opt-in; 10 minutes).",
					security: [{ apiKey: [] }],
					params: UserParams,
					body: ChallengeBody,
					response: { 201: described("Started: the challenge id, with WebAuthn request options or the email sent.", ChallengeResponse), ...errorResponses },
				},
			},
			async (request, reply) => {
				const { user_id } = request.params;
				const { body } = request;
				const result =
					body.type === "email"
						? await services.challenges.createEmail(tenantOf(request), user_id, body.to)
						: await services.challenges.createWebAuthn(tenantOf(request), user_id);
				return reply.code(201).header("cache-control", "no-store").send(result);
			},
		);
	};
}
