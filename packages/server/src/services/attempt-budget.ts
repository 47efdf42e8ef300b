import type { UserTable } from "../store/tables.js";
import type { TenantSettings } from "../contract/tenant-settings.js";

/**
 * One attempt budget per user, shared by every factor and by recovery codes
 * (R-OTP-6, RFC 4226 §7.3 "across login sessions", V-4, V-5):
 * - after `throttle_after` consecutive failures, each further failure delays
 *   the next attempt: 1 s, 2 s, 4 s, … doubling up to 5 minutes;
 * - at `lock_after` (at most 100, NIST 63B-4 §3.2.2) the user is locked and
 *   even the correct code is refused unevaluated until an admin unlocks.
 * Only a success or an admin unlock resets the count; nothing else does.
 *
 * The lock is a recorded state (users.locked_at), not a comparison with the
 * current lock_after: changing the setting neither locks nor unlocks anyone
 * (issue 12 finding 7). A lower limit applies from the next failure, which
 * locks with its `user.locked` event; a higher one leaves locked users locked.
 */
const MAX_DELAY_IN_SECONDS = 300;

/**
 * How long the attempt record of an id that never enrolled lives after its last counted failure (V-12a):
 * an unknown id is throttled and locked like a user while its record lives, and guessing ids cannot grow the
 * database without bound, since the records never outnumber the failures of the last day (each of which
 * also wrote an audit event). Longer than any throttle delay, so a guesser going at the allowed pace
 * never outlives it. The trade-off is in docs/decisions/0002-attempt-budget.md.
 */
export const ATTEMPT_RECORD_TTL_MS = 24 * 60 * 60 * 1000;

export function throttleDelayInSeconds(failures: number, attempts: TenantSettings["attempts"]): number {
	if (failures < attempts.throttle_after) return 0;
	return Math.min(2 ** (failures - attempts.throttle_after), MAX_DELAY_IN_SECONDS);
}

/**
 * throttleDelayInSeconds for 1, 2, 3, … failures, up to the first count where the delay has reached its cap past
 * throttle_after: the last entry holds for every higher count. PostgreSQL's attempt decision reads the delay from
 * this table (ADR 0009), so the formula lives here only.
 */
export function throttleDelays(attempts: TenantSettings["attempts"]): number[] {
	const delays: number[] = [];
	for (let failures = 1; ; failures++) {
		const delay = throttleDelayInSeconds(failures, attempts);
		delays.push(delay);
		if (delay === MAX_DELAY_IN_SECONDS && failures >= attempts.throttle_after) return delays;
	}
}

export function isLocked(user: Pick<UserTable, "locked_at">): boolean {
	return user.locked_at !== null;
}

/** An attempt record is the budget of an id Twofold does not know; it is not a user (GET answers user_not_found). */
export function isAttemptRecord(user: Pick<UserTable, "record_expires_at">): boolean {
	return user.record_expires_at !== null;
}

/** Why no attempt may be made now, or null when one may. */
export function attemptBlock(
	user: Pick<UserTable, "locked_at" | "next_attempt_at">,
	now: number,
): { reason: "locked" } | { reason: "throttled"; retryAfterSeconds: number } | null {
	if (isLocked(user)) return { reason: "locked" };
	if (user.next_attempt_at > now) return { reason: "throttled", retryAfterSeconds: Math.ceil((user.next_attempt_at - now) / 1000) };
	return null;
}
