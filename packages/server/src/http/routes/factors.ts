import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { onRequestHookHandler } from "fastify";
import { described, errorResponses, FactorParams, NoContent, UserParams } from "../../contract/schemas/common.js";
import { Type } from "@sinclair/typebox";
import {
	ChangeBody,
	ConfirmBody,
	ConfirmResponse,
	EnrollBody,
	EnrollHOTPResponse,
	EnrollResponse,
	EnrollWebAuthnResponse,
	Factor,
	FactorList,
	RenameBody,
	ResyncBody,
} from "../../contract/schemas/factors.js";
import type { Services } from "../../services/services.js";
import { tenantOf } from "../auth.js";

const security = [{ apiKey: [] }];

/** enrollLimit: the per-tenant enrollment rate limit (TWOFOLD_RATE_LIMIT_ENROLL), after authentication. */
export function factorRoutes(services: Services, enrollLimit?: onRequestHookHandler): FastifyPluginAsyncTypebox {
	return async (app) => {
		app.post(
			"/users/:user_id/factors",
			{
				...(enrollLimit === undefined ? {} : { onRequest: enrollLimit }),
				schema: {
					tags: ["factors"],
					summary:
						"Enroll a TOTP, HOTP or WebAuthn factor (pending until confirmed). A TOTP secret and URI, or a generated HOTP secret and URI, are returned only here. A user with an active factor must add a proof from it (R-LC-1).",
					security,
					params: UserParams,
					body: EnrollBody,
					response: {
						201: described(
							"Enrolled, pending until confirmed: TOTP with its secret, URI and QR code (shown only here), HOTP likewise for a generated secret (an imported one is not echoed), WebAuthn with creation options.",
							// HOTP last: its hotp is optional, so it matches every answer, and the serializer takes the first match.
							Type.Union([EnrollResponse, EnrollWebAuthnResponse, EnrollHOTPResponse]),
						),
						...errorResponses,
					},
				},
			},
			async (request, reply) => {
				const { user_id } = request.params;
				const { body } = request;
				const result =
					body.type === "webauthn"
						? await services.factors.enrollWebAuthn(tenantOf(request), user_id, body)
						: body.type === "hotp"
							? await services.factors.enrollHOTP(tenantOf(request), user_id, body)
							: await services.factors.enrollTOTP(tenantOf(request), user_id, body);
				return reply.code(201).header("cache-control", "no-store").send(result);
			},
		);

		app.post(
			"/users/:user_id/factors/:factor_id/confirm",
			{
				schema: {
					tags: ["factors"],
					summary:
						"Activate a pending factor: TOTP or HOTP with a current code, WebAuthn with the registration response. The user's first factor comes with recovery codes.",
					security,
					params: FactorParams,
					body: ConfirmBody,
					response: { 200: described("Active: the factor, the first factor's recovery codes (shown only here) and a step-up assertion.", ConfirmResponse), ...errorResponses },
				},
			},
			async (request, reply) => {
				const { user_id, factor_id } = request.params;
				const { body } = request;
				const result = await services.factors.confirm(tenantOf(request), user_id, factor_id, body);
				return reply.header("cache-control", "no-store").send(result);
			},
		);

		app.post(
			"/users/:user_id/factors/:factor_id/resync",
			{
				schema: {
					tags: ["factors"],
					summary:
						"Resynchronize an HOTP factor whose token ran ahead (RFC 4226 §7.4): two consecutive codes within the tenant's hotp.resync_window. A counted attempt, like a verify; answers no assertion.",
					security,
					params: FactorParams,
					body: ResyncBody,
					response: { 200: described("Resynchronized: the counter is past the second code; the token's next code verifies.", Type.Object({ factor: Type.Ref(Factor) })), ...errorResponses },
				},
			},
			async (request) => {
				const { user_id, factor_id } = request.params;
				return services.factors.resync(tenantOf(request), user_id, factor_id, request.body);
			},
		);

		app.get(
			"/users/:user_id/factors",
			{
				schema: {
					tags: ["factors"],
					summary: "List a user's factors (metadata only, never secrets).",
					security,
					params: UserParams,
					response: { 200: described("The user's factors, pending and active.", FactorList), ...errorResponses },
				},
			},
			async (request) => {
				const { user_id } = request.params;
				return { factors: await services.factors.list(tenantOf(request), user_id) };
			},
		);

		app.patch(
			"/users/:user_id/factors/:factor_id",
			{
				schema: {
					tags: ["factors"],
					summary: "Rename a factor: {label}, under the label rules of enrollment. A name grants nothing, so no proof is asked.",
					security,
					params: FactorParams,
					body: RenameBody,
					response: { 200: described("Renamed: the factor with its new label.", Type.Object({ factor: Type.Ref(Factor) })), ...errorResponses },
				},
			},
			async (request) => {
				const { user_id, factor_id } = request.params;
				return services.factors.rename(tenantOf(request), user_id, factor_id, request.body.label);
			},
		);

		app.delete(
			"/users/:user_id/factors/:factor_id",
			{
				schema: {
					tags: ["factors"],
					summary: "Remove a factor: with a current code, or with an admin key and a reason.",
					security,
					params: FactorParams,
					body: ChangeBody,
					response: { 204: NoContent("Removed."), ...errorResponses },
				},
				// Discarding a pending factor needs no proof, so a DELETE without a body is well-formed. (Before validation
				// the body is what was sent, whatever its inferred type says: here possibly undefined.)
				preValidation: async (request) => {
					request.body ??= {};
				},
			},
			async (request, reply) => {
				const { user_id, factor_id } = request.params;
				const { body } = request;
				await services.factors.delete(tenantOf(request), user_id, factor_id, body);
				return reply.code(204).send();
			},
		);
	};
}
