import type { UserTable } from "../store/tables.js";
import type { TenantSettings } from "./tenant-settings.js";

/**
 * One attempt budget per user, shared by every factor and by recovery codes
 * (R-OTP-6, RFC 4226 §7.3 "across login sessions", V-4, V-5):
 * - after `throttle_after` consecutive failures, each further failure delays
 *   the next attempt: 1 s, 2 s, 4 s, … doubling up to 5 minutes;
 * - at `lock_after` (at most 100, NIST 63B-4 §3.2.2) the user is locked and
 *   even the correct code is refused unevaluated until an admin unlocks.
 * Only a success or an admin unlock resets the count; nothing else does.
 */
const MAX_DELAY_IN_SECONDS = 300;

export function throttleDelayInSeconds(failures: number, attempts: TenantSettings["attempts"]): number {
	if (failures < attempts.throttle_after) return 0;
	return Math.min(2 ** (failures - attempts.throttle_after), MAX_DELAY_IN_SECONDS);
}

export function isLocked(user: UserTable, attempts: TenantSettings["attempts"]): boolean {
	return user.failed_attempts >= attempts.lock_after;
}

/** Why no attempt may be made now, or null when one may. */
export function attemptBlock(
	user: UserTable,
	now: number,
	attempts: TenantSettings["attempts"],
): { reason: "locked" } | { reason: "throttled"; retryAfterSeconds: number } | null {
	if (isLocked(user, attempts)) return { reason: "locked" };
	if (user.next_attempt_at > now) return { reason: "throttled", retryAfterSeconds: Math.ceil((user.next_attempt_at - now) / 1000) };
	return null;
}
