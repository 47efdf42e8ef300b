import type { ServiceDeps } from "./deps.js";

/**
 * Attempt records (V-12a, docs/decisions/0002-attempt-budget.md): a failed attempt on an id Twofold does not
 * know creates a users row marked with record_expires_at, so that id is throttled and locked like a user.
 * Each counted failure moves the expiry on by ATTEMPT_RECORD_TTL_MS; this sweep deletes the expired ones, so
 * guessing ids cannot grow the database without bound. It runs beside the service, never on the verify
 * path: each pass is a few short transactions of at most SWEEP_BATCH conditional deletes, found through a
 * partial index that holds only attempt records. A user's row is never deleted here (enrolling clears the mark).
 */
export const SWEEP_BATCH = 200;
const MAX_BATCHES_PER_PASS = 50;

/** One pass: deletes expired attempt records in batches until none is left or the pass's bound is reached. */
export async function sweepAttemptRecords(deps: Pick<ServiceDeps, "store" | "clock">, options: { batch?: number; maxBatches?: number } = {}): Promise<{ deleted: number; more: boolean }> {
	const batch = options.batch ?? SWEEP_BATCH;
	let deleted = 0;
	for (let i = 0; i < (options.maxBatches ?? MAX_BATCHES_PER_PASS); i++) {
		const now = deps.clock().getTime();
		const result = await deps.store.transaction((tx) => tx.users.sweepAttemptRecords(now, batch));
		deleted += result.deleted;
		if (!result.more) return { deleted, more: false };
	}
	return { deleted, more: true };
}

export interface AttemptRecordSweeper {
	/** Stops the timer and waits for the pass in flight. */
	stop(): Promise<void>;
}

/** A pass every `intervalMs` (a minute by default), or again soon after a pass that hit its bound. */
export function startAttemptRecordSweeper(deps: Pick<ServiceDeps, "store" | "clock">, options: { intervalMs?: number; onError?: (error: unknown) => void } = {}): AttemptRecordSweeper {
	const intervalMs = options.intervalMs ?? 60_000;
	let stopped = false;
	let timer: NodeJS.Timeout | undefined;
	let inFlight: Promise<void> = Promise.resolve();
	const schedule = (delay: number): void => {
		if (!stopped) timer = setTimeout(tick, delay).unref();
	};
	const tick = (): void => {
		inFlight = sweepAttemptRecords(deps).then(
			(result) => schedule(result.more ? 1000 : intervalMs),
			(error: unknown) => {
				options.onError?.(error);
				schedule(intervalMs);
			},
		);
	};
	schedule(intervalMs);
	return {
		async stop() {
			stopped = true;
			clearTimeout(timer);
			await inFlight;
		},
	};
}
