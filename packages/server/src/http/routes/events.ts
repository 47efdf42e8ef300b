import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { described, errorResponses } from "../../contract/schemas/common.js";
import { EventList, EventsQuery } from "../../contract/schemas/events.js";
import { PAGE_LIMIT } from "../../contract/schemas/patterns.js";
import type { Services } from "../../services/services.js";
import { ServiceError } from "../../contract/service-error.js";
import { tenantOf } from "../auth.js";

export function eventRoutes(services: Services): FastifyPluginAsyncTypebox {
	return async (app) => {
		app.get(
			"/events",
			{
				schema: {
					tags: ["events"],
					summary: "The tenant's audit events, newest first. No secrets or codes.",
					security: [{ apiKey: [] }],
					querystring: EventsQuery,
					response: { 200: described("A page of events, newest first; next_cursor fetches the next.", EventList), ...errorResponses },
				},
			},
			async (request) => {
				const { query } = request;
				const limit = query.limit === undefined ? 50 : Number(query.limit);
				if (limit < 1 || limit > 100) {
					throw new ServiceError("invalid_request", { details: [{ in: "query", pointer: "/limit", message: PAGE_LIMIT.expected }] });
				}
				return services.events.list(tenantOf(request), {
					limit,
					...(query.user_id === undefined ? {} : { userId: query.user_id }),
					...(query.type === undefined ? {} : { type: query.type }),
					...(query.cursor === undefined ? {} : { beforeSeq: Number(query.cursor) }),
				});
			},
		);
	};
}
