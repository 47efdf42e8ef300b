/**
 * The console overview's rollups (issue 16): what each audit event adds to the per-hour counts the charts read, and
 * which users' factor census it makes stale. Pure: the fold in services/event-rollups.ts reads the events and writes
 * the sums. The charts read these small tables, never the events table, which holds millions of rows and is written by
 * every verify (so the verify path gains no write: the fold runs beside it, in batches).
 */

export const HOUR_MS = 60 * 60_000;

/** The hourly metrics. Success is counted by method; a failure carries no method in its event (docs/events.md). */
export const ROLLUP_METRICS = [
	"verify.ok.totp",
	"verify.ok.hotp",
	"verify.ok.webauthn",
	"verify.ok.recovery_code",
	"verify.failed",
	"verify.replayed",
	"lockouts",
] as const;
export type RollupMetric = (typeof ROLLUP_METRICS)[number];

/** Factor kinds as bits of a census row: which kinds a user has active. */
export const FACTOR_KIND_BITS = { totp: 1, hotp: 2, webauthn: 4 } as const;
export type CensusKind = keyof typeof FACTOR_KIND_BITS;

/** The gauges: users with any active factor, and users with each kind. */
export const GAUGE_METRICS = ["users.any", "users.totp", "users.hotp", "users.webauthn"] as const;
export type GaugeMetric = (typeof GAUGE_METRICS)[number];

export interface RollupEvent {
	seq: number;
	tenant_id: string;
	user_id: string | null;
	type: string;
	data: string;
	created_at: number;
}

/** Events after which a user's active factors may differ: the fold recounts that user's census row. */
const CENSUS_EVENTS = new Set(["factor.activated", "factor.deleted", "admin.factor_reset", "user.deleted", "factor.imported"]);

export const hourOf = (time: number): number => Math.floor(time / HOUR_MS) * HOUR_MS;

/** The hourly metric an event counts toward, if any. */
export function metricOf(event: Pick<RollupEvent, "type" | "data">): RollupMetric | undefined {
	switch (event.type) {
		case "verification.succeeded": {
			const method = methodOf(event.data);
			return method === undefined ? undefined : `verify.ok.${method}`;
		}
		case "verification.failed":
			return "verify.failed";
		case "verification.replay_rejected":
			return "verify.replayed";
		case "user.locked":
			return "lockouts";
		default:
			return undefined;
	}
}

function methodOf(data: string): "totp" | "hotp" | "webauthn" | "recovery_code" | undefined {
	try {
		const method = (JSON.parse(data) as { method?: unknown }).method;
		return method === "totp" || method === "hotp" || method === "webauthn" || method === "recovery_code" ? method : undefined;
	} catch {
		return undefined;
	}
}

export interface RollupFold {
	/** (tenant, hour, metric) → how many to add. */
	counts: Map<string, { tenant_id: string; hour: number; metric: RollupMetric; count: number }>;
	/** "tenant\0user" of every user whose census row must be recounted. */
	touched: Map<string, { tenant_id: string; user_id: string }>;
	/** The highest seq folded. */
	lastSeq: number;
}

/**
 * Folds a batch of events (in seq order) into count deltas and the users to recount. Only events created before
 * `foldBefore` are taken, and the fold stops at the first later one: a later event may still have an uncommitted
 * predecessor in seq order (PostgreSQL assigns seq at insert, not at commit), so the cursor must not pass it yet.
 */
export function foldEvents(events: readonly RollupEvent[], foldBefore: number, startSeq: number): RollupFold {
	const fold: RollupFold = { counts: new Map(), touched: new Map(), lastSeq: startSeq };
	for (const event of events) {
		if (event.created_at >= foldBefore) break;
		fold.lastSeq = event.seq;
		const metric = metricOf(event);
		if (metric !== undefined) {
			const hour = hourOf(event.created_at);
			const key = `${event.tenant_id}\u0000${hour}\u0000${metric}`;
			const entry = fold.counts.get(key);
			if (entry === undefined) fold.counts.set(key, { tenant_id: event.tenant_id, hour, metric, count: 1 });
			else entry.count++;
		}
		if (CENSUS_EVENTS.has(event.type) && event.user_id !== null) fold.touched.set(`${event.tenant_id}\u0000${event.user_id}`, { tenant_id: event.tenant_id, user_id: event.user_id });
	}
	return fold;
}

/** A census row's bits for a set of active factor kinds. */
export function kindBits(kinds: Iterable<string>): number {
	let bits = 0;
	for (const kind of kinds) if (kind in FACTOR_KIND_BITS) bits |= FACTOR_KIND_BITS[kind as CensusKind];
	return bits;
}

/** What changing a user's census row from `before` to `after` adds to each gauge (0 bits: no active factor). */
export function gaugeDeltas(before: number, after: number): Partial<Record<GaugeMetric, number>> {
	const deltas: Partial<Record<GaugeMetric, number>> = {};
	const step = (metric: GaugeMetric, had: boolean, has: boolean): void => {
		if (had !== has) deltas[metric] = has ? 1 : -1;
	};
	step("users.any", before !== 0, after !== 0);
	for (const [kind, bit] of Object.entries(FACTOR_KIND_BITS)) step(`users.${kind as CensusKind}`, (before & bit) !== 0, (after & bit) !== 0);
	return deltas;
}
