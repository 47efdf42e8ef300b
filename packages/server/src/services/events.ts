import type { Static } from "@sinclair/typebox";
import type { EventList } from "../contract/schemas/events.js";
import { generateId } from "../core/id.js";
import type { RandomReader } from "../core/random.js";
import type { EventQuery, Store } from "../store/store.js";
import type { EventTable } from "../store/tables.js";

/** Audit event types (docs/events.md). Payloads carry ids, reasons and counts, never secrets or codes (R-ST-4). */
export const EVENT_TYPES = [
	"factor.created",
	"factor.activated",
	"factor.deleted",
	"factor.resynchronized",
	"factor.renamed",
	"verification.succeeded",
	"verification.failed",
	"verification.replay_rejected",
	"webauthn.counter_regression",
	"user.locked",
	"user.unlocked",
	"user.deleted",
	"recovery_code.used",
	"recovery_codes.regenerated",
	"tenant.updated",
	"api_key.created",
	"api_key.revoked",
	"webhook.created",
	"webhook.updated",
	"webhook.deleted",
	"webhook.secret_rotated",
	"webhook.disabled",
	"email_code.sent",
	"admin.factor_reset",
	"user.security_notice",
	"user.recovery_requested",
	"prompt.completed",
	"prompt.cancelled",
	"service.restore_fenced",
	"prompt.completed",
	"prompt.cancelled",
	"factor.imported",
	"import.completed",
	"import.failed",
	"factor.exported",
	"operator.created",
	"operator.link_issued",
	"operator.link_used",
	"operator.disabled",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface NewEvent {
	tenantId: string;
	userId?: string | null;
	type: EventType;
	factorId?: string | null;
	data?: Record<string, unknown>;
}

/** Process-wide observers of committed events (metrics). They see the type only, never the data. */
export const eventObservers = new Set<(type: EventType) => void>();

/**
 * Appends in the caller's transaction, so an event exists exactly when its change committed (R-ST-5). Observers hear
 * of it only after that commit: an event of a transaction that threw, or of an attempt that was run again, was never
 * kept and is not counted (issue 14).
 */
export async function appendEvent(tx: Store, random: RandomReader, now: number, event: NewEvent): Promise<void> {
	const row = eventRow(random, now, event);
	await tx.events.append(row);
	// An operator's action (issue 16: data.actor, services/actor.ts) is also indexed by operator for the console.
	const actor = event.data?.actor as { type?: unknown; id?: unknown } | undefined;
	if (actor?.type === "operator" && typeof actor.id === "string") await tx.events.noteOperator(row.id, row.tenant_id, actor.id, row.created_at);
	tx.afterCommit(() => {
		for (const observe of eventObservers) observe(event.type);
	});
}

/**
 * For events a single statement appended and committed itself (PostgreSQL's attempt decision, ADR 0009): the
 * observers hear of them now, after that statement returned, as afterCommit would have told them.
 */
export function observeCommitted(types: readonly EventType[]): void {
	for (const type of types) for (const observe of eventObservers) observe(type);
}

/** appendEvent for many events at once, in order (a bulk import's batch, issue 17): the same rows, fewer statements. */
export async function appendEvents(tx: Store, random: RandomReader, now: number, events: readonly NewEvent[]): Promise<void> {
	if (events.length === 0) return;
	await tx.events.appendMany(events.map((event) => eventRow(random, now, event)));
	tx.afterCommit(() => {
		for (const event of events) for (const observe of eventObservers) observe(event.type);
	});
}

export async function listEvents(store: Store, tenantId: string, query: EventQuery): Promise<Static<typeof EventList>> {
	const rows = await store.events.list(tenantId, query);
	const events = rows.map((row) => ({
		id: row.id,
		type: row.type,
		user_id: row.user_id,
		factor_id: row.factor_id,
		data: JSON.parse(row.data) as Record<string, unknown>,
		created_at: new Date(row.created_at).toISOString(),
	}));
	const last = rows[rows.length - 1];
	return { events, next_cursor: rows.length === query.limit && last !== undefined ? String(last.seq) : null };
}

/** The stored row of an event (its id drawn here): one shape for appendEvent and appendEvents. */
function eventRow(random: RandomReader, now: number, event: NewEvent): Omit<EventTable, "seq"> {
	return {
		id: generateId("evt", random),
		tenant_id: event.tenantId,
		user_id: event.userId ?? null,
		type: event.type,
		factor_id: event.factorId ?? null,
		data: JSON.stringify(event.data ?? {}),
		created_at: now,
	};
}
