/**
 * Fixed-window request counters for the request rate limits (issue 6). One
 * implementation counts in this process (one node); redis-rate-counters.ts
 * shares the counts between nodes. Either is an accelerator for availability
 * only: codes, attempts and lockouts live in the database (D-2, D-3), so a
 * counter that is lost or reset can never make a code valid twice.
 */
export interface RateCounters {
	/**
	 * Counts one request under key in the window of windowMs that contains now,
	 * and returns the count including this one and when the window ends.
	 * Rejects when the counts cannot be read: the caller then refuses the request (fails closed).
	 */
	hit(key: string, windowMs: number, now: number): Promise<{ count: number; resetsAt: number }>;
	/** Whether hit() can currently answer (for /readyz). */
	healthy(): boolean;
	close(): Promise<void>;
}

/** Counts in this process. A window's counts are dropped when the next window starts. */
export function memoryRateCounters(): RateCounters {
	let window = -1;
	let counts = new Map<string, number>();
	return {
		async hit(key, windowMs, now) {
			const current = Math.floor(now / windowMs);
			if (current !== window) {
				window = current;
				counts = new Map();
			}
			const count = (counts.get(key) ?? 0) + 1;
			counts.set(key, count);
			return { count, resetsAt: (current + 1) * windowMs };
		},
		healthy: () => true,
		async close() {},
	};
}
