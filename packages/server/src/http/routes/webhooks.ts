import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { described, errorResponses, NoContent } from "../../contract/schemas/common.js";
import {
	CreateWebhookBody,
	CreateWebhookResponse,
	DeliveriesQuery,
	DeliveryList,
	DeliveryParams,
	RotatedSecret,
	UpdateWebhookBody,
	Webhook,
	WebhookList,
	WebhookParams,
} from "../../contract/schemas/webhooks.js";
import type { Services } from "../../services/services.js";
import { tenantOf } from "../auth.js";

const security = [{ apiKey: [] }];
const tags = ["webhooks"];

/** Webhook endpoints (admin keys): Standard Webhooks signatures, a transactional outbox, retries for a day and more. */
export function webhookRoutes(services: Services): FastifyPluginAsyncTypebox {
	return async (app) => {
		app.post(
			"/webhooks",
			{ schema: { tags, summary: "Add an endpoint; its signing secret is in this response only.", security, body: CreateWebhookBody, response: { 201: described("Created: the endpoint and its signing secret (shown only here).", CreateWebhookResponse), ...errorResponses } } },
			async (request, reply) => {
				const result = await services.webhooks.create(tenantOf(request), request.body);
				return reply.code(201).header("cache-control", "no-store").send(result);
			},
		);
		app.get("/webhooks", { schema: { tags, summary: "List endpoints (never their secrets).", security, response: { 200: described("The tenant's endpoints.", WebhookList), ...errorResponses } } }, async (request) => ({
			webhooks: await services.webhooks.list(tenantOf(request)),
		}));
		app.patch(
			"/webhooks/:webhook_id",
			{ schema: { tags, summary: "Change the URL, the events, or enable/disable.", security, params: WebhookParams, body: UpdateWebhookBody, response: { 200: described("The endpoint as changed.", Webhook), ...errorResponses } } },
			async (request) =>
				services.webhooks.update(tenantOf(request), request.params.webhook_id, request.body),
		);
		app.delete(
			"/webhooks/:webhook_id",
			{ schema: { tags, summary: "Remove an endpoint and its deliveries.", security, params: WebhookParams, response: { 204: NoContent("Removed, with its deliveries."), ...errorResponses } } },
			async (request, reply) => {
				await services.webhooks.delete(tenantOf(request), request.params.webhook_id);
				return reply.code(204).send();
			},
		);
		app.post(
			"/webhooks/:webhook_id/rotate-secret",
			{ schema: { tags, summary: "A new signing secret; both sign for 24 hours.", security, params: WebhookParams, response: { 200: described("The new secret (shown only here); the previous one still signs until previous_secret_expires_at.", RotatedSecret), ...errorResponses } } },
			async (request, reply) =>
				reply.header("cache-control", "no-store").send(await services.webhooks.rotateSecret(tenantOf(request), request.params.webhook_id)),
		);
		app.get(
			"/webhooks/:webhook_id/deliveries",
			{ schema: { tags, summary: "Recent deliveries, newest first: status, attempts, last response code.", security, params: WebhookParams, querystring: DeliveriesQuery, response: { 200: described("Deliveries, newest first.", DeliveryList), ...errorResponses } } },
			async (request) => {
				const limit = Math.min(Math.max(Number(request.query.limit ?? 50), 1), 100);
				return { deliveries: await services.webhooks.deliveries(tenantOf(request), request.params.webhook_id, limit) };
			},
		);
		app.post(
			"/webhooks/:webhook_id/deliveries/:delivery_id/retry",
			{ schema: { tags, summary: "Send a pending or failed delivery again now.", security, params: DeliveryParams, response: { 202: NoContent("Queued: the delivery is tried again now."), ...errorResponses } } },
			async (request, reply) => {
				const { webhook_id, delivery_id } = request.params;
				await services.webhooks.retry(tenantOf(request), webhook_id, delivery_id);
				return reply.code(202).send();
			},
		);
	};
}
