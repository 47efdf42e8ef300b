import type { Clock } from "./clock.js";

/**
 * D-7, clock discipline across nodes: TOTP steps come from this node's clock,
 * so a node whose clock has drifted would accept codes from the wrong steps.
 * The guard compares the node's clock with the database's (PostgreSQL) at
 * start and every `intervalMs`, and distrusts it while the difference exceeds
 * `maxSkewMs`: codes are then refused with 503 clock_skew and readiness fails,
 * so a load balancer takes the node out. SQLite has no other clock: always trusted.
 */
export interface ClockGuard {
	trusted(): boolean;
	/** The last measured difference, node minus database, in ms (null: nothing to compare with). */
	skewMs(): number | null;
	check(): Promise<void>;
	stop(): void;
}

export async function startClockGuard(
	databaseTime: () => Promise<number | null>,
	clock: Clock,
	options: { maxSkewMs: number; intervalMs?: number; onChange?: (skewMs: number, trusted: boolean) => void },
): Promise<ClockGuard> {
	let skew: number | null = null;
	let trusted = true;
	const check = async (): Promise<void> => {
		const before = clock().getTime();
		const database = await databaseTime();
		const after = clock().getTime();
		if (database === null) return;
		// The database read its clock somewhere in the round trip: compare with the middle of it.
		skew = Math.round((before + after) / 2 - database);
		const now = Math.abs(skew) <= options.maxSkewMs + (after - before) / 2;
		if (now !== trusted) options.onChange?.(skew, now);
		trusted = now;
	};
	await check();
	const timer = setInterval(() => void check().catch(() => undefined), options.intervalMs ?? 30_000);
	timer.unref();
	return {
		trusted: () => trusted,
		skewMs: () => skew,
		check,
		stop: () => clearInterval(timer),
	};
}
