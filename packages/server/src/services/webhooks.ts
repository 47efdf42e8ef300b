import type { Static } from "@sinclair/typebox";
import type { ValidationDetail } from "../contract/validation-detail.js";
import type { CreateWebhookResponse, Delivery as DeliverySchema, RotatedSecret, Webhook } from "../contract/schemas/webhooks.js";
import { generateId } from "../core/id.js";
import { openSecret, sealSecret } from "../core/envelope.js";
import { newWebhookSecret } from "../core/webhook-signature.js";
import type { Delivery } from "../store/store.js";
import type { WebhookTable } from "../store/tables.js";
import type { ServiceDeps } from "./deps.js";
import { actorOf } from "./actor.js";
import { appendEvent, EVENT_TYPES } from "./events.js";
import { requireAdmin } from "./require-admin.js";
import { fieldError, ServiceError } from "../contract/service-error.js";
import type { TenantContext } from "./tenant-context.js";
import { checkWebhookURL, WebhookURLRefused } from "../webhook-delivery/webhook-destination.js";

/** How long the previous secret keeps signing after a rotation, so receivers can switch without losing a message. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** What the API shows of an endpoint (never its secret) and of a delivery: the contract's types. */
type PublicWebhook = Static<typeof Webhook>;
type PublicDelivery = Static<typeof DeliverySchema>;

const iso = (time: number | null): string | null => (time === null ? null : new Date(time).toISOString());

function publicWebhook(row: WebhookTable): PublicWebhook {
	return { id: row.id, url: row.url, events: JSON.parse(row.events) as string[], enabled: row.enabled === 1, created_at: new Date(row.created_at).toISOString(), disabled_at: iso(row.disabled_at) };
}

function publicDelivery(row: Delivery): PublicDelivery {
	return {
		id: row.event_id,
		event_type: row.event_type,
		sequence: row.seq,
		status: row.status,
		attempts: row.attempts,
		next_attempt_at: row.status === "pending" ? iso(row.next_attempt_at) : null,
		last_status_code: row.last_status_code,
		last_error: row.last_error,
		delivered_at: iso(row.delivered_at),
		created_at: new Date(row.event_created_at).toISOString(),
	};
}

/** R-ST-2: a webhook secret is bound to its tenant and endpoint. */
export const webhookSecretData = (row: { tenant_id: string; id: string }): string => JSON.stringify(["webhook-secret", row.tenant_id, row.id]);

export function openWebhookSecret(deps: ServiceDeps, row: { tenant_id: string; id: string }, envelope: string): string {
	return Buffer.from(openSecret(deps.keyring, envelope, webhookSecretData(row))).toString("utf8");
}

function sealWebhookSecret(deps: ServiceDeps, row: { tenant_id: string; id: string }, secret: string): string {
	return sealSecret({ keyring: deps.keyring, plaintext: Buffer.from(secret, "utf8"), associatedData: webhookSecretData(row), random: deps.random });
}


/** ["*"] alone, or known event types (repeats are dropped); each problem named by its index, never its text. */
function eventTypes(events: readonly string[]): string[] {
	const known = new Set<string>(EVENT_TYPES);
	const unique = [...new Set(events)];
	const details: ValidationDetail[] = [];
	events.forEach((type, index) => {
		const at = `/events/${index}`;
		if (type === "*") {
			if (unique.length > 1) details.push({ in: "body", pointer: at, message: 'must be the only event type when it is "*" (every event)' });
		} else if (!known.has(type)) {
			details.push({ in: "body", pointer: at, message: "is not an event type of docs/events.md" });
		}
	});
	if (events.length === 0) details.push({ in: "body", pointer: "/events", message: "must have at least 1 item" });
	if (details.length > 0) throw new ServiceError("invalid_request", { details });
	return unique;
}

async function findWebhook(deps: ServiceDeps, ctx: TenantContext, id: string): Promise<WebhookTable> {
	const row = await deps.store.webhooks.find(ctx.tenantId, id);
	if (row === undefined) throw new ServiceError("webhook_not_found");
	return row;
}

/** The endpoint's URL, checked as a destination (SSRF); a refusal is a 400 about the body's `url`. */
async function destination(deps: ServiceDeps, url: string): Promise<string> {
	try {
		return await checkWebhookURL(url, deps.outbound.allowPrivateWebhooks);
	} catch (error) {
		if (error instanceof WebhookURLRefused) throw fieldError(error.code, "/url", error.message);
		throw error;
	}
}

/** POST /v1/webhooks: the secret is in this response only. */
export async function createWebhook(deps: ServiceDeps, ctx: TenantContext, input: { url: string; events: string[] }): Promise<Static<typeof CreateWebhookResponse>> {
	requireAdmin(ctx);
	const types = eventTypes(input.events);
	const url = await destination(deps, input.url);
	const now = deps.clock().getTime();
	const id = generateId("whk", deps.random);
	const secret = newWebhookSecret(deps.random);
	const row: WebhookTable = {
		tenant_id: ctx.tenantId,
		id,
		url,
		events: JSON.stringify(types),
		enabled: 1,
		secret_envelope: sealWebhookSecret(deps, { tenant_id: ctx.tenantId, id }, secret),
		previous_secret_envelope: null,
		previous_secret_until: null,
		created_at: now,
		disabled_at: null,
	};
	await deps.store.transaction(async (tx) => {
		await tx.webhooks.insert(row, types);
		await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, type: "webhook.created", data: { webhook_id: id, ...actorOf(ctx), events: types } });
	});
	return { webhook: publicWebhook(row), secret };
}

export async function listWebhooks(deps: ServiceDeps, ctx: TenantContext): Promise<PublicWebhook[]> {
	requireAdmin(ctx);
	return (await deps.store.webhooks.list(ctx.tenantId)).map(publicWebhook);
}

/** PATCH: url, events, enabled. Enabling again clears the disabled mark; deliveries left pending resume. */
export async function updateWebhook(
	deps: ServiceDeps,
	ctx: TenantContext,
	id: string,
	patch: { url?: string; events?: string[]; enabled?: boolean },
): Promise<PublicWebhook> {
	requireAdmin(ctx);
	const types = patch.events === undefined ? undefined : eventTypes(patch.events);
	const url = patch.url === undefined ? undefined : await destination(deps, patch.url);
	const now = deps.clock().getTime();
	const changes: Partial<WebhookTable> = {};
	if (url !== undefined) changes.url = url;
	if (types !== undefined) changes.events = JSON.stringify(types);
	if (patch.enabled !== undefined) Object.assign(changes, { enabled: patch.enabled ? 1 : 0, disabled_at: patch.enabled ? null : now });
	const row = await deps.store.transaction(async (tx) => {
		if (!(await tx.webhooks.update(ctx.tenantId, id, changes, types))) return undefined;
		await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, type: "webhook.updated", data: { webhook_id: id, ...actorOf(ctx), fields: Object.keys(patch) } });
		return tx.webhooks.find(ctx.tenantId, id);
	});
	if (row === undefined) throw new ServiceError("webhook_not_found");
	return publicWebhook(row);
}

export async function deleteWebhook(deps: ServiceDeps, ctx: TenantContext, id: string): Promise<void> {
	requireAdmin(ctx);
	const now = deps.clock().getTime();
	const deleted = await deps.store.transaction(async (tx) => {
		if (!(await tx.webhooks.delete(ctx.tenantId, id))) return false;
		await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, type: "webhook.deleted", data: { webhook_id: id, ...actorOf(ctx) } });
		return true;
	});
	if (!deleted) throw new ServiceError("webhook_not_found");
}

/** A new secret, shown once; the previous one goes on signing beside it for SECRET_OVERLAP_MS. */
export async function rotateWebhookSecret(deps: ServiceDeps, ctx: TenantContext, id: string): Promise<Static<typeof RotatedSecret>> {
	requireAdmin(ctx);
	const row = await findWebhook(deps, ctx, id);
	const secret = newWebhookSecret(deps.random);
	const now = deps.clock().getTime();
	const until = now + SECRET_OVERLAP_MS;
	await deps.store.transaction(async (tx) => {
		await tx.webhooks.update(ctx.tenantId, id, {
			secret_envelope: sealWebhookSecret(deps, row, secret),
			previous_secret_envelope: row.secret_envelope,
			previous_secret_until: until,
		});
		await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, type: "webhook.secret_rotated", data: { webhook_id: id, ...actorOf(ctx) } });
	});
	return { secret, previous_secret_expires_at: new Date(until).toISOString() };
}

export async function listDeliveries(deps: ServiceDeps, ctx: TenantContext, id: string, limit: number): Promise<PublicDelivery[]> {
	requireAdmin(ctx);
	await findWebhook(deps, ctx, id);
	return (await deps.store.webhookDeliveries.list(ctx.tenantId, id, limit)).map(publicDelivery);
}

/** Due again now, whatever its backoff said; a delivered one stays delivered. */
export async function retryDelivery(deps: ServiceDeps, ctx: TenantContext, id: string, deliveryId: string): Promise<void> {
	requireAdmin(ctx);
	await findWebhook(deps, ctx, id);
	if (!(await deps.store.webhookDeliveries.retry(ctx.tenantId, id, deliveryId, deps.clock().getTime()))) throw new ServiceError("delivery_not_found");
}
