import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { eventObservers } from "../services/events.js";
import type { Services } from "../services/services.js";

/**
 * GET /metrics (Prometheus, prom-client). Labels are route templates, methods,
 * status codes and event types: no user id, tenant id, code or key ever
 * becomes a label, so the output carries no personal data and its size is bounded.
 */
export function registerMetrics(app: FastifyInstance, services: Services): void {
	const registry = new Registry();
	collectDefaultMetrics({ register: registry, prefix: "twofold_" });
	const requests = new Counter({ name: "twofold_http_requests_total", help: "HTTP requests by route, method and status.", labelNames: ["route", "method", "status"], registers: [registry] });
	const duration = new Histogram({
		name: "twofold_http_request_duration_seconds",
		help: "HTTP request latency by route and method.",
		labelNames: ["route", "method"],
		buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
		registers: [registry],
	});
	const verifications = new Counter({
		name: "twofold_verifications_total",
		help: "Verify outcomes: success, invalid (wrong, replayed or malformed), locked, throttled, unavailable, error.",
		labelNames: ["outcome"],
		registers: [registry],
	});
	const events = new Counter({ name: "twofold_events_total", help: "Audit events committed, by type (user.locked counts lockouts).", labelNames: ["type"], registers: [registry] });
	const pending = new Gauge({ name: "twofold_webhook_deliveries_pending", help: "Webhook deliveries waiting to be sent.", registers: [registry] });
	const lag = new Gauge({ name: "twofold_webhook_outbox_lag_seconds", help: "Age of the oldest pending webhook delivery (0 when none).", registers: [registry] });

	const observe = (type: string): void => void events.inc({ type });
	eventObservers.add(observe);
	app.addHook("onClose", async () => void eventObservers.delete(observe));

	const VERIFY_OUTCOMES: Record<number, string> = { 200: "success", 400: "invalid", 422: "invalid", 423: "locked", 429: "throttled", 503: "unavailable" };
	app.addHook("onResponse", async (request, reply) => {
		const route = request.routeOptions.url ?? "unmatched";
		const method = request.method;
		requests.inc({ route, method, status: String(reply.statusCode) });
		duration.observe({ route, method }, reply.elapsedTime / 1000);
		if (route === "/v1/users/:user_id/verify") verifications.inc({ outcome: VERIFY_OUTCOMES[reply.statusCode] ?? "error" });
	});

	app.get("/metrics", { schema: { tags: ["health"], summary: "Prometheus metrics (no personal data in labels).", response: { 200: { type: "string", description: "The Prometheus text exposition format." } } } }, async (_request, reply) => {
		const backlog = await services.deps.store.webhookDeliveries.backlog();
		pending.set(backlog.pending);
		lag.set(backlog.oldestCreatedAt === null ? 0 : Math.max(0, (services.deps.clock().getTime() - backlog.oldestCreatedAt) / 1000));
		return reply.type(registry.contentType).send(await registry.metrics());
	});
}
