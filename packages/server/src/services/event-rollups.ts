import { foldEvents, GAUGE_METRICS, gaugeDeltas, HOUR_MS, hourOf, kindBits, ROLLUP_METRICS, type GaugeMetric, type RollupMetric } from "../core/event-rollup.js";
import type { ServiceDeps } from "./deps.js";
import type { TenantContext } from "./tenant-context.js";

/**
 * The console overview's rollups (issue 16). A fold beside the service reads the events table in seq order, a batch
 * per transaction, and adds to small per-hour counts and per-tenant gauges; the overview reads only those. So the
 * verify path writes nothing more (its event insert is all), and no chart ever scans the events.
 *
 * Events are folded once they are FOLD_LAG_MS old. PostgreSQL gives an event its seq at insert, not at commit, so a
 * transaction still open may hold a lower seq than one already visible; the cursor must not pass it. A transaction
 * lasts well under a minute (request and statement timeouts), and node clocks are held within the clock guard's bound,
 * so an event two minutes old has no open predecessor. The charts are per hour: two minutes late is nothing.
 */
export const FOLD_LAG_MS = 2 * 60_000;
/** Events per transaction: on SQLite the fold holds the one writer meanwhile, so a batch stays a few milliseconds. */
export const FOLD_BATCH = 500;
const MAX_BATCHES_PER_PASS = 100;
/** Hourly counts are kept this long: the week's chart, and a day to spare. */
export const ROLLUP_RETENTION_MS = 8 * 24 * HOUR_MS;

export interface FoldResult {
	/** Events folded in this pass. */
	folded: number;
	/** Users whose census row was recounted. */
	recounted: number;
	/** The pass stopped at its bound with events left to fold: the next one comes soon. */
	more: boolean;
}

/** One batch, in one transaction, under the cursor's lock: two nodes never fold the same events. */
async function foldBatch(deps: Pick<ServiceDeps, "store" | "clock">, batch: number): Promise<{ folded: number; recounted: number; full: boolean }> {
	return deps.store.transaction(async (tx) => {
		const cursor = await tx.rollups.lockCursor();
		const events = await tx.rollups.eventsAfter(cursor, batch);
		const now = deps.clock().getTime();
		const fold = foldEvents(
			events.map((event) => ({ ...event, seq: Number(event.seq), created_at: Number(event.created_at) })),
			now - FOLD_LAG_MS,
			cursor,
		);
		if (fold.lastSeq === cursor) return { folded: 0, recounted: 0, full: false };
		await tx.rollups.addCounts([...fold.counts.values()]);
		const gauges = new Map<string, Record<string, number>>();
		for (const { tenant_id, user_id } of fold.touched.values()) {
			const before = await tx.rollups.censusOf(tenant_id, user_id);
			const after = kindBits(await tx.rollups.activeKinds(tenant_id, user_id));
			if (before === after) continue;
			await tx.rollups.setCensus(tenant_id, user_id, after);
			const sums = gauges.get(tenant_id) ?? {};
			for (const [metric, delta] of Object.entries(gaugeDeltas(before, after))) sums[metric] = (sums[metric] ?? 0) + delta;
			gauges.set(tenant_id, sums);
		}
		for (const [tenantId, deltas] of gauges) await tx.rollups.addGauges(tenantId, deltas);
		await tx.rollups.setCursor(fold.lastSeq);
		const folded = events.findIndex((event) => Number(event.seq) === fold.lastSeq) + 1;
		return { folded, recounted: fold.touched.size, full: folded === batch };
	});
}

/** One pass: batches until the events within the lag, or the pass's bound; then the hours past retention go. */
export async function foldEventRollups(deps: Pick<ServiceDeps, "store" | "clock">, options: { batch?: number; maxBatches?: number } = {}): Promise<FoldResult> {
	const batch = options.batch ?? FOLD_BATCH;
	const maxBatches = options.maxBatches ?? MAX_BATCHES_PER_PASS;
	const result: FoldResult = { folded: 0, recounted: 0, more: false };
	for (let i = 0; i < maxBatches; i++) {
		const done = await foldBatch(deps, batch);
		result.folded += done.folded;
		result.recounted += done.recounted;
		if (!done.full) {
			await deps.store.rollups.prune(hourOf(deps.clock().getTime() - ROLLUP_RETENTION_MS));
			return result;
		}
	}
	result.more = true;
	return result;
}

export interface EventRollupFolder {
	/** Stops the timer and waits for the pass in flight. */
	stop(): Promise<void>;
}

/** A pass at once, then every `intervalMs` (15 s by default), or again at once after a pass that hit its bound. */
export function startEventRollupFolder(
	deps: Pick<ServiceDeps, "store" | "clock">,
	options: { intervalMs?: number; onError?: (error: unknown) => void } = {},
): EventRollupFolder {
	const intervalMs = options.intervalMs ?? 15_000;
	let stopped = false;
	let timer: NodeJS.Timeout | undefined;
	let inFlight: Promise<void> = Promise.resolve();
	const schedule = (delay: number): void => {
		if (!stopped) timer = setTimeout(tick, delay).unref();
	};
	const tick = (): void => {
		inFlight = foldEventRollups(deps).then(
			(result) => schedule(result.more ? 100 : intervalMs),
			(error: unknown) => {
				options.onError?.(error);
				schedule(intervalMs);
			},
		);
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

export interface OverviewSeries {
	/** Hour starts (ms), oldest first, one per hour of the span, the current hour last. */
	hours: number[];
	/** Per metric, a count per hour (0 where none). */
	values: Record<RollupMetric, number[]>;
}

export interface OverviewWebhook {
	id: string;
	url: string;
	enabled: boolean;
	pending: number;
	retrying: number;
	/** The oldest pending event's time (ms), or null with none pending. */
	oldest: number | null;
}

export interface Overview {
	day: OverviewSeries;
	week: OverviewSeries;
	gauges: Record<GaugeMetric, number>;
	webhooks: OverviewWebhook[];
	/** Events written and not yet in the counts (those of the last FOLD_LAG_MS, or a fold behind). */
	pendingEvents: number;
	at: number;
}

function series(rows: readonly { hour: number; metric: string; count: number }[], now: number, hours: number): OverviewSeries {
	const last = hourOf(now);
	const first = last - (hours - 1) * HOUR_MS;
	const starts = Array.from({ length: hours }, (_, i) => first + i * HOUR_MS);
	const values = Object.fromEntries(ROLLUP_METRICS.map((metric) => [metric, new Array<number>(hours).fill(0)])) as Record<RollupMetric, number[]>;
	for (const row of rows) {
		const index = (row.hour - first) / HOUR_MS;
		if (index >= 0 && index < hours && (ROLLUP_METRICS as readonly string[]).includes(row.metric)) values[row.metric as RollupMetric][index]! += row.count;
	}
	return { hours: starts, values };
}

/** The overview of a tenant: reads the rollups (a few hundred rows at most) and the webhook backlog, never the events. */
export async function tenantOverview(deps: Pick<ServiceDeps, "store" | "clock">, ctx: TenantContext): Promise<Overview> {
	const now = deps.clock().getTime();
	const rows = await deps.store.rollups.counts(ctx.tenantId, hourOf(now) - 7 * 24 * HOUR_MS);
	const gaugeRows = await deps.store.rollups.gauges(ctx.tenantId);
	const gauges = Object.fromEntries(GAUGE_METRICS.map((metric) => [metric, gaugeRows.find((row) => row.metric === metric)?.value ?? 0])) as Record<GaugeMetric, number>;
	const endpoints = await deps.store.webhooks.list(ctx.tenantId);
	const backlog = await deps.store.rollups.webhookBacklog(ctx.tenantId);
	const position = await deps.store.rollups.position();
	return {
		day: series(rows, now, 24),
		week: series(rows, now, 7 * 24),
		gauges,
		webhooks: endpoints.map((endpoint) => {
			const pending = backlog.find((row) => row.webhook_id === endpoint.id);
			return { id: endpoint.id, url: endpoint.url, enabled: endpoint.enabled === 1, pending: pending?.pending ?? 0, retrying: pending?.retrying ?? 0, oldest: pending?.oldest ?? null };
		}),
		pendingEvents: Math.max(0, position.newest - position.cursor),
		at: now,
	};
}
