import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { ClientList, ClientParams, CreateClientBody, CreateClientResponse, Client, UpdateClientBody } from "../../contract/schemas/clients.js";
import { described, errorResponses, NoContent } from "../../contract/schemas/common.js";
import type { Services } from "../../services/services.js";
import { tenantOf } from "../auth.js";

const security = [{ apiKey: [] }];
const tags = ["clients"];

/** The hosted prompt's registered clients (admin keys, issue 15): the applications that redirect their users to Twofold. */
export function clientRoutes(services: Services): FastifyPluginAsyncTypebox {
	return async (app) => {
		app.post(
			"/clients",
			{ schema: { tags, summary: "Register a client; its secret is in this response only.", security, body: CreateClientBody, response: { 201: described("Created: the client and, for client_secret_basic or _post, its secret (shown only here).", CreateClientResponse), ...errorResponses } } },
			async (request, reply) => reply.code(201).header("cache-control", "no-store").send(await services.clients.create(tenantOf(request), request.body)),
		);
		app.get("/clients", { schema: { tags, summary: "List the tenant's clients (never their secrets).", security, response: { 200: described("The tenant's clients.", ClientList), ...errorResponses } } }, async (request) => ({
			clients: await services.clients.list(tenantOf(request)),
		}));
		app.get(
			"/clients/:client_id",
			{ schema: { tags, summary: "One client (never its secret).", security, params: ClientParams, response: { 200: described("The client.", Client), ...errorResponses } } },
			async (request) => services.clients.get(tenantOf(request), request.params.client_id),
		);
		app.patch(
			"/clients/:client_id",
			{ schema: { tags, summary: "Change the name, redirect URIs, id_token algorithm or inline keys.", security, params: ClientParams, body: UpdateClientBody, response: { 200: described("The client as changed.", Client), ...errorResponses } } },
			async (request) => services.clients.update(tenantOf(request), request.params.client_id, request.body),
		);
		app.delete(
			"/clients/:client_id",
			{ schema: { tags, summary: "Remove a client: its codes and requests no longer redeem.", security, params: ClientParams, response: { 204: NoContent("Removed."), ...errorResponses } } },
			async (request, reply) => {
				await services.clients.delete(tenantOf(request), request.params.client_id);
				return reply.code(204).send();
			},
		);
	};
}
