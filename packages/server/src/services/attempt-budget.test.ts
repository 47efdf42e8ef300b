import { describe, expect, it } from "vitest";
import { attemptBlock, isAttemptRecord, isLocked, throttleDelayInSeconds } from "./attempt-budget.js";

/**
 * The attempt budget's arithmetic (R-OTP-6, V-4, V-5; docs/decisions/0002-attempt-budget.md) at its edges:
 * the HTTP tests (test/http/lockout.test.ts) drive it through verification with the default settings only.
 */
describe("attempt budget (R-OTP-6, V-4, V-5)", () => {
	const attempts = { throttle_after: 3, lock_after: 100 };

	it("no delay below throttle_after; then 1 s, doubling, capped at 5 minutes", () => {
		expect([0, 1, 2].map((failures) => throttleDelayInSeconds(failures, attempts))).toEqual([0, 0, 0]);
		expect([3, 4, 5, 6, 10, 11].map((failures) => throttleDelayInSeconds(failures, attempts))).toEqual([1, 2, 4, 8, 128, 256]);
		// 2^9 = 512 s would exceed the cap; the cap holds however many failures follow.
		expect([12, 13, 50, 99].map((failures) => throttleDelayInSeconds(failures, attempts))).toEqual([300, 300, 300, 300]);
		expect(throttleDelayInSeconds(5, { throttle_after: 5, lock_after: 100 })).toBe(1);
	});

	it("a lock is the recorded state, whatever the count; an attempt record is a row with an expiry", () => {
		expect(isLocked({ locked_at: null })).toBe(false);
		expect(isLocked({ locked_at: 0 })).toBe(true);
		expect(isLocked({ locked_at: 1_700_000_000_000 })).toBe(true);
		expect(isAttemptRecord({ record_expires_at: null })).toBe(false);
		expect(isAttemptRecord({ record_expires_at: 0 })).toBe(true);
		expect(isAttemptRecord({ record_expires_at: 1_700_000_000_000 })).toBe(true);
	});

	it("blocks a locked user even when no delay is pending, and a throttled one until next_attempt_at, rounding the wait up", () => {
		const now = 1_700_000_000_000;
		expect(attemptBlock({ locked_at: null, next_attempt_at: 0 }, now)).toBeNull();
		expect(attemptBlock({ locked_at: null, next_attempt_at: now }, now)).toBeNull();
		expect(attemptBlock({ locked_at: now - 1, next_attempt_at: 0 }, now)).toEqual({ reason: "locked" });
		expect(attemptBlock({ locked_at: now - 1, next_attempt_at: now + 5000 }, now)).toEqual({ reason: "locked" });
		// Retry-After is whole seconds (RFC 9110 §10.2.3): never earlier than the attempt may be made.
		expect(attemptBlock({ locked_at: null, next_attempt_at: now + 1 }, now)).toEqual({ reason: "throttled", retryAfterSeconds: 1 });
		expect(attemptBlock({ locked_at: null, next_attempt_at: now + 1000 }, now)).toEqual({ reason: "throttled", retryAfterSeconds: 1 });
		expect(attemptBlock({ locked_at: null, next_attempt_at: now + 1001 }, now)).toEqual({ reason: "throttled", retryAfterSeconds: 2 });
		expect(attemptBlock({ locked_at: null, next_attempt_at: now + 299_500 }, now)).toEqual({ reason: "throttled", retryAfterSeconds: 300 });
	});
});
