import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { described, errorResponses } from "../../contract/schemas/common.js";
import { Tenant, TenantPatch } from "../../contract/schemas/tenant.js";
import type { Services } from "../../services/services.js";
import { tenantOf } from "../auth.js";

export function tenantRoutes(services: Services): FastifyPluginAsyncTypebox {
	return async (app) => {
		app.get(
			"/tenant",
			{ schema: { tags: ["tenant"], summary: "The calling tenant and its settings.", security: [{ apiKey: [] }], response: { 200: described("The tenant.", Tenant), ...errorResponses } } },
			async (request) => services.tenants.view(tenantOf(request)),
		);
		app.patch(
			"/tenant",
			{
				schema: {
					tags: ["tenant"],
					summary: "Admin: change settings within safe bounds.",
					security: [{ apiKey: [] }],
					body: TenantPatch,
					response: { 200: described("The tenant with its new settings.", Tenant), ...errorResponses },
				},
			},
			async (request) => services.tenants.update(tenantOf(request), request.body),
		);
	};
}
