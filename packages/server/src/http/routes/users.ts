import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { described, errorResponses, NoContent, UserParams } from "../../contract/schemas/common.js";
import { ChangeBody } from "../../contract/schemas/factors.js";
import { RecoveryCodes, ResetBody, ResetResponse, User } from "../../contract/schemas/users.js";
import type { Services } from "../../services/services.js";
import { tenantOf } from "../auth.js";

const security = [{ apiKey: [] }];

export function userRoutes(services: Services): FastifyPluginAsyncTypebox {
	return async (app) => {
		app.get(
			"/users/:user_id",
			{ schema: { tags: ["users"], summary: "A user's 2FA state.", security, params: UserParams, response: { 200: described("The user: factors (metadata), recovery codes left, locked or not.", User), ...errorResponses } } },
			async (request) => {
				const { user_id } = request.params;
				return services.users.get(tenantOf(request), user_id);
			},
		);

		app.post(
			"/users/:user_id/recovery-codes",
			{
				schema: {
					tags: ["users"],
					summary: "Replace the user's recovery codes (current code, or admin key with reason). Old codes stop working at once.",
					security,
					params: UserParams,
					body: ChangeBody,
					response: { 201: described("New recovery codes, shown only here; the old ones no longer work.", RecoveryCodes), ...errorResponses },
				},
			},
			async (request, reply) => {
				const { user_id } = request.params;
				const { body } = request;
				const codes = await services.recoveryCodes.regenerate(tenantOf(request), user_id, body);
				return reply.code(201).header("cache-control", "no-store").send({ recovery_codes: codes });
			},
		);

		app.post(
			"/users/:user_id/reset",
			{
				schema: {
					tags: ["users"],
					summary: "Admin: remove all of a user's factors and recovery codes and revoke open challenges, with a reason (audited, notified).",
					security,
					params: UserParams,
					body: ResetBody,
					response: { 200: described("Reset: how many factors were removed, and whether the notice was sent.", ResetResponse), ...errorResponses },
				},
			},
			async (request) => {
				const { user_id } = request.params;
				return services.users.reset(tenantOf(request), user_id, request.body);
			},
		);

		app.post(
			"/users/:user_id/unlock",
			{
				schema: {
					tags: ["users"],
					summary: "Admin: reset the attempt budget of a locked user (audited).",
					security,
					params: UserParams,
					response: { 204: NoContent("Unlocked: the attempt budget is full again."), ...errorResponses },
				},
			},
			async (request, reply) => {
				const { user_id } = request.params;
				await services.users.unlock(tenantOf(request), user_id);
				return reply.code(204).send();
			},
		);

		app.delete(
			"/users/:user_id",
			{
				schema: {
					tags: ["users"],
					summary: "Admin: erase the user with all factors and recovery codes (audit events remain).",
					security,
					params: UserParams,
					response: { 204: NoContent("Erased."), ...errorResponses },
				},
			},
			async (request, reply) => {
				const { user_id } = request.params;
				await services.users.delete(tenantOf(request), user_id);
				return reply.code(204).send();
			},
		);
	};
}
