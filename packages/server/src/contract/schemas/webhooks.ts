import { Type } from "@sinclair/typebox";
import { CREATE_WEBHOOK_EXAMPLES, UPDATE_WEBHOOK_EXAMPLES } from "./examples.js";
import { PAGE_LIMIT } from "./patterns.js";
import { NullableTimestamp, Timestamp } from "./common.js";

const EventTypes = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
	minItems: 1,
	maxItems: 50,
	description: '["*"] for every event, or event types from docs/events.md.',
});
const URLText = Type.String({ minLength: 1, maxLength: 2048 });

export const Webhook = Type.Object({
	id: Type.String(),
	url: Type.String(),
	events: Type.Array(Type.String()),
	enabled: Type.Boolean(),
	created_at: Timestamp,
	disabled_at: NullableTimestamp,
}, { $id: "Webhook", description: "An endpoint; never its secret." });

export const WebhookParams = Type.Object({ webhook_id: Type.String({ maxLength: 64 }) });
export const DeliveryParams = Type.Object({ webhook_id: Type.String({ maxLength: 64 }), delivery_id: Type.String({ maxLength: 64 }) });

export const CreateWebhookBody = Type.Object({ url: URLText, events: EventTypes }, { additionalProperties: false, "x-examples": CREATE_WEBHOOK_EXAMPLES });
export const CreateWebhookResponse = Type.Object({
	webhook: Type.Ref(Webhook),
	secret: Type.String({ description: "whsec_…: the signing secret, shown only here." }),
});
export const UpdateWebhookBody = Type.Object(
	{ url: Type.Optional(URLText), events: Type.Optional(EventTypes), enabled: Type.Optional(Type.Boolean()) },
	{ additionalProperties: false, minProperties: 1, "x-examples": UPDATE_WEBHOOK_EXAMPLES },
);
export const WebhookList = Type.Object({ webhooks: Type.Array(Type.Ref(Webhook)) });
export const RotatedSecret = Type.Object({
	secret: Type.String({ description: "The new whsec_… secret, shown only here." }),
	previous_secret_expires_at: Type.String({ format: "date-time", description: "Until then, messages carry a signature with each secret." }),
});

export const Delivery = Type.Object({
	id: Type.String({ description: "The event id: the webhook-id header, the same on every retry." }),
	event_type: Type.String(),
	sequence: Type.Integer(),
	status: Type.Union([Type.Literal("pending"), Type.Literal("delivered"), Type.Literal("failed")]),
	attempts: Type.Integer(),
	next_attempt_at: NullableTimestamp,
	last_status_code: Type.Union([Type.Integer(), Type.Null()]),
	last_error: Type.Union([Type.String(), Type.Null()]),
	delivered_at: NullableTimestamp,
	created_at: Timestamp,
}, { $id: "Delivery", description: "One event's delivery to one endpoint." });
export const DeliveryList = Type.Object({ deliveries: Type.Array(Type.Ref(Delivery)) });
export const DeliveriesQuery = Type.Object(
	{ limit: Type.Optional(Type.String({ pattern: PAGE_LIMIT.pattern, description: "1-100, default 50" })) },
	{ additionalProperties: false },
);
