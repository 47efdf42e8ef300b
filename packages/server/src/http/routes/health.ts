import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { described, errorResponses } from "../../contract/schemas/common.js";
import { sendError } from "../errors.js";

/** What readiness asks of the database: that it answers. Declared here so that http needs nothing of the store. */
export interface DatabaseProbe {
	ping(): Promise<void>;
}

const Status = Type.Object({ status: Type.String() });

export function healthRoutes(database: DatabaseProbe, clockTrusted: () => boolean, rateLimitsHealthy: () => boolean): FastifyPluginAsyncTypebox {
	return async (app) => {
		app.get("/healthz", { schema: { tags: ["health"], summary: "The process is up.", response: { 200: described("Up.", Status) } } }, async () => ({ status: "ok" }));
		app.get("/readyz", { schema: { tags: ["health"], summary: "The database answers.", response: { 200: described("Ready for traffic.", Status), 503: errorResponses[503] } } }, async (request, reply) => {
			try {
				await database.ping();
				// D-7: a node whose clock is off checks no codes; the load balancer should send it no traffic.
				if (!clockTrusted()) return sendError(reply, "clock_skew");
				// The node refuses /v1 requests while its rate-limit store is away, so it is not ready either.
				if (!rateLimitsHealthy()) return sendError(reply, "rate_limit_unavailable");
				return { status: "ready" };
			} catch (error) {
				request.log.warn({ err: error }, "readiness check failed");
				return sendError(reply, "service_unavailable");
			}
		});
	};
}
