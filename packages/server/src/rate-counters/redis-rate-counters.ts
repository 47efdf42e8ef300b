import { Redis } from "ioredis";
import type { RateCounters } from "./rate-counters.js";

export interface RedisCounterOptions {
	/** Called when Redis goes away or comes back; never with a key or address. */
	onStateChange?(available: boolean, reason?: string): void;
}

/**
 * Counters in Redis, shared by every node that uses the same URL. The key
 * carries the window's index, so INCR and PEXPIRE in one MULTI are the whole
 * algorithm and a key outlives its window by one window at most.
 *
 * Fail closed (D-2): no offline queue and a short command timeout, so while
 * Redis is down hit() rejects at once and the request is refused; nothing
 * waits in a queue to be let through later and nothing is let through unchecked.
 */
export function redisRateCounters(url: string, options: RedisCounterOptions = {}): RateCounters {
	let available = false;
	const client = new Redis(url, {
		enableOfflineQueue: false,
		maxRetriesPerRequest: 0,
		commandTimeout: 500,
		connectTimeout: 1000,
		// Keep trying to come back, every quarter second.
		retryStrategy: () => 250,
	});
	const setAvailable = (next: boolean, reason?: string): void => {
		if (next === available) return;
		available = next;
		options.onStateChange?.(next, reason);
	};
	client.on("ready", () => setAvailable(true));
	// ioredis's error text names the host and port at most; it never holds a counter key.
	client.on("error", (error: Error) => setAvailable(false, error.message));
	client.on("close", () => setAvailable(false, "connection closed"));
	return {
		async hit(key, windowMs, now) {
			const window = Math.floor(now / windowMs);
			const fullKey = `twofold:rl:${key}:${window}`;
			const results = await client.multi().incr(fullKey).pexpire(fullKey, windowMs * 2).exec();
			const [incr] = results ?? [];
			if (incr === undefined || incr[0] !== null || typeof incr[1] !== "number") throw new Error("redis rate counter: no count returned");
			return { count: incr[1], resetsAt: (window + 1) * windowMs };
		},
		healthy: () => available,
		async close() {
			client.disconnect();
		},
	};
}
