import { signWebhook } from "../core/webhook-signature.js";
import type { Delivery, DueDelivery } from "../store/store.js";
import { httpSender, type Sender, type SendOutcome } from "../webhook-delivery/http-sender.js";
import type { ServiceDeps } from "./deps.js";
import { appendEvent } from "./events.js";
import { openWebhookSecret } from "./webhooks.js";

/**
 * Delivery from the outbox: claim due rows, POST each with Standard Webhooks
 * headers, record the outcome. Retries back off exponentially with ±20% jitter
 * for about 32 hours (at least the 24 the issue asks); a delivery that runs
 * out of retries is marked failed and its endpoint disabled, with an event.
 */
export const RETRY_DELAYS_SECONDS = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800, 28800];
/** A claimed delivery is not claimed again for this long (several nodes; a node that died mid-send). */
const LEASE_MS = 60_000;
const BATCH = 50;

/** The body, versioned; `sequence` orders a tenant's messages when several nodes commit them out of order. */
export function webhookPayload(delivery: Delivery): string {
	const data = JSON.parse(delivery.data) as Record<string, unknown>;
	return JSON.stringify({
		type: delivery.event_type,
		timestamp: new Date(delivery.event_created_at).toISOString(),
		version: 1,
		sequence: delivery.seq,
		data: { event_id: delivery.event_id, user_id: delivery.user_id, factor_id: delivery.factor_id, ...data },
	});
}

function signatures(deps: ServiceDeps, delivery: DueDelivery, timestamp: number, body: string, now: number): string {
	const endpoint = { tenant_id: delivery.tenant_id, id: delivery.webhook_id };
	const current = signWebhook(openWebhookSecret(deps, endpoint, delivery.secret_envelope), delivery.event_id, timestamp, body);
	if (delivery.previous_secret_envelope === null || (delivery.previous_secret_until ?? 0) <= now) return current;
	return `${current} ${signWebhook(openWebhookSecret(deps, endpoint, delivery.previous_secret_envelope), delivery.event_id, timestamp, body)}`;
}

/** One pass: claim what is due and send it. Returns how many were attempted. */
export async function deliverDue(deps: ServiceDeps, send: Sender): Promise<number> {
	const claimedAt = deps.clock().getTime();
	const due = await deps.store.transaction((tx) => tx.webhookDeliveries.claimDue(claimedAt, claimedAt + LEASE_MS, BATCH));
	await Promise.all(
		due.map(async (delivery) => {
			const now = deps.clock().getTime();
			const body = webhookPayload(delivery);
			const timestamp = Math.floor(now / 1000);
			const outcome = await send(delivery.url, { "webhook-id": delivery.event_id, "webhook-timestamp": String(timestamp), "webhook-signature": signatures(deps, delivery, timestamp, body, now) }, body);
			await record(deps, delivery, outcome);
		}),
	);
	return due.length;
}

async function record(deps: ServiceDeps, delivery: DueDelivery, outcome: SendOutcome): Promise<void> {
	const now = deps.clock().getTime();
	const attempts = delivery.attempts + 1;
	const status = "status" in outcome ? outcome.status : null;
	const delivered = status !== null && status >= 200 && status < 300;
	const lastError = delivered ? null : "error" in outcome ? outcome.error : `HTTP ${status}`;
	const delay = RETRY_DELAYS_SECONDS[attempts - 1];
	await deps.store.transaction(async (tx) => {
		if (delivered) {
			await tx.webhookDeliveries.record(delivery.seq, { status: "delivered", attempts, next_attempt_at: now, last_status_code: status, last_error: null, delivered_at: now });
			return;
		}
		if (delay !== undefined) {
			const jitter = 0.8 + 0.4 * (deps.random(1)[0]! / 255);
			await tx.webhookDeliveries.record(delivery.seq, { status: "pending", attempts, next_attempt_at: now + Math.round(delay * 1000 * jitter), last_status_code: status, last_error: lastError, delivered_at: null });
			return;
		}
		// Out of retries: this endpoint has kept failing for more than a day.
		await tx.webhookDeliveries.record(delivery.seq, { status: "failed", attempts, next_attempt_at: now, last_status_code: status, last_error: lastError, delivered_at: null });
		if (await tx.webhooks.update(delivery.tenant_id, delivery.webhook_id, { enabled: 0, disabled_at: now })) {
			await appendEvent(tx, deps.random, now, {
				tenantId: delivery.tenant_id,
				type: "webhook.disabled",
				data: { webhook_id: delivery.webhook_id, reason: "deliveries kept failing", last_error: lastError },
			});
		}
	});
}

export interface WebhookWorker {
	/** Stops polling and waits for the pass in flight. */
	stop(): Promise<void>;
}

/** The loop in each server process: a pass every `pollMs`, or at once after a pass that found a full batch. */
export function startWebhookWorker(deps: ServiceDeps, options: { pollMs?: number; send?: Sender; onError?: (error: unknown) => void } = {}): WebhookWorker {
	const send = options.send ?? httpSender(deps.outbound.allowPrivateWebhooks);
	const pollMs = options.pollMs ?? 500;
	let stopped = false;
	let timer: NodeJS.Timeout | undefined;
	let inFlight: Promise<void> = Promise.resolve();
	const tick = (): void => {
		inFlight = deliverDue(deps, send).then(
			(count) => schedule(count === BATCH ? 0 : pollMs),
			(error: unknown) => {
				options.onError?.(error);
				schedule(pollMs);
			},
		);
	};
	const schedule = (delay: number): void => {
		if (!stopped) timer = setTimeout(tick, delay);
	};
	schedule(0);
	return {
		async stop() {
			stopped = true;
			clearTimeout(timer);
			await inFlight;
		},
	};
}
