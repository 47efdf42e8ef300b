import { constantTimeEqual } from "./constant-time.js";
import { generateHOTP, type HashAlgorithm } from "./hotp.js";

/** T = floor((now - T0) / X) with T0 = 0 (RFC 6238 §4.2); plain division, never 32-bit bitwise ops. */
export function totpCounter(nowInMilliseconds: number, periodInSeconds: number): bigint {
	return BigInt(Math.floor(nowInMilliseconds / 1000 / periodInSeconds));
}

export function generateTOTP(options: {
	key: Uint8Array;
	nowInMilliseconds: number;
	periodInSeconds: number;
	digits: number;
	algorithm: HashAlgorithm;
}): string {
	const counter = totpCounter(options.nowInMilliseconds, options.periodInSeconds);
	return generateHOTP(options.key, counter, options.digits, options.algorithm);
}

export interface TOTPVerification {
	key: Uint8Array;
	code: string;
	nowInMilliseconds: number;
	periodInSeconds: number;
	digits: number;
	algorithm: HashAlgorithm;
	/** Steps accepted either side of the current one; RFC 6238 §5.2 recommends at most 1. */
	windowInSteps: number;
}

/**
 * Returns the time step the code belongs to, or null. Every candidate step is
 * computed and compared, with no early return, so timing does not reveal which
 * step matched (V-14). Replay protection is the caller's job: it must consume
 * the returned step atomically (R-OTP-1).
 */
export function verifyTOTP(input: TOTPVerification): bigint | null {
	if (!Number.isInteger(input.windowInSteps) || input.windowInSteps < 0 || input.windowInSteps > 1) {
		throw new TypeError("TOTP window must be 0 or 1 step (R-OTP-2)");
	}
	const current = totpCounter(input.nowInMilliseconds, input.periodInSeconds);
	let matched: bigint | null = null;
	for (let offset = -input.windowInSteps; offset <= input.windowInSteps; offset++) {
		const step = current + BigInt(offset);
		if (step < 0n) continue;
		const expected = generateHOTP(input.key, step, input.digits, input.algorithm);
		// Later steps win, so a code that collides with an already used earlier step still counts once.
		if (constantTimeEqual(expected, input.code)) matched = step;
	}
	return matched;
}
