import { constantTimeEqual } from "./constant-time.js";
import { generateHOTP, type HashAlgorithm } from "./hotp.js";

/**
 * Counter windows for HOTP factors (RFC 4226 §7.4). The server keeps the last accepted counter; an
 * authenticator's counter runs ahead of it whenever the user generates a code and does not use it.
 * Pure: the caller consumes the returned counter atomically (R-OTP-1), as for TOTP steps.
 *
 * Counters are stored in an integer column read as a JavaScript number, so a counter above 2^53 - 1
 * is never a candidate (a factor that far along cannot be verified, rather than wrap or round).
 */
export const MAX_HOTP_COUNTER = Number.MAX_SAFE_INTEGER;
/** Bounds of the tenant settings hotp.look_ahead and hotp.resync_window (misuse beyond them is a TypeError). */
export const MAX_HOTP_LOOK_AHEAD = 100;
export const MAX_HOTP_RESYNC_WINDOW = 1000;

export interface HOTPFactorState {
	key: Uint8Array;
	digits: number;
	algorithm: HashAlgorithm;
	/** The last accepted counter; the start counter - 1 before the first code. */
	lastUsed: number;
}

/** The codes for counters last+1 … last+count, all computed (V-14: nothing about a match shows in the time). */
function candidates(state: HOTPFactorState, count: number): { counter: number; code: string }[] {
	const out: { counter: number; code: string }[] = [];
	for (let offset = 1; offset <= count; offset++) {
		const counter = state.lastUsed + offset;
		if (counter < 0 || counter > MAX_HOTP_COUNTER) continue;
		out.push({ counter, code: generateHOTP(state.key, BigInt(counter), state.digits, state.algorithm) });
	}
	return out;
}

/**
 * RFC 4226 §7.4 look-ahead: the code is checked against counters last+1 … last+1+lookAhead. Returns the
 * matching counter or null. Every candidate is computed and compared, with no early return (V-14); when two
 * counters of the window share the code, the higher one wins, so the one consumed invalidates both.
 */
export function verifyHOTP(state: HOTPFactorState & { code: string; lookAhead: number }): number | null {
	if (!Number.isInteger(state.lookAhead) || state.lookAhead < 0 || state.lookAhead > MAX_HOTP_LOOK_AHEAD) {
		throw new TypeError(`HOTP look-ahead must be an integer from 0 to ${MAX_HOTP_LOOK_AHEAD}`);
	}
	let matched: number | null = null;
	for (const candidate of candidates(state, state.lookAhead + 1)) {
		if (constantTimeEqual(candidate.code, state.code)) matched = candidate.counter;
	}
	return matched;
}

/**
 * Whether the code is one of the counters just behind the window, last-lookBehind+1 … last: a code already accepted
 * (or skipped past) presented again. Only for the audit trail (R-OTP-9: the caller sees a wrong code either way);
 * every candidate is computed and compared, as in verifyHOTP.
 */
export function wasRecentlyUsed(state: HOTPFactorState & { code: string; lookBehind: number }): boolean {
	if (!Number.isInteger(state.lookBehind) || state.lookBehind < 0 || state.lookBehind > MAX_HOTP_LOOK_AHEAD + 1) {
		throw new TypeError(`HOTP look-behind must be an integer from 0 to ${MAX_HOTP_LOOK_AHEAD + 1}`);
	}
	let matched = false;
	for (const candidate of candidates({ ...state, lastUsed: state.lastUsed - state.lookBehind }, state.lookBehind)) {
		if (constantTimeEqual(candidate.code, state.code)) matched = true;
	}
	return matched;
}

/**
 * RFC 4226 §7.4 resynchronization ("ask for another code"): two codes of consecutive counters c, c+1,
 * both within last+1 … last+window. Returns c+1, the counter to store as the last accepted one, or null.
 * One code in a window of 100 would be guessed with probability 10^-4 per try; the pair, about 10^-10.
 */
export function resyncHOTP(state: HOTPFactorState & { codes: readonly [string, string]; window: number }): number | null {
	if (!Number.isInteger(state.window) || state.window < 2 || state.window > MAX_HOTP_RESYNC_WINDOW) {
		throw new TypeError(`HOTP resync window must be an integer from 2 to ${MAX_HOTP_RESYNC_WINDOW}`);
	}
	const codes = candidates(state, state.window);
	const [first, second] = state.codes;
	let matched: number | null = null;
	for (let index = 0; index + 1 < codes.length; index++) {
		// Both comparisons always run (no && short-circuit), so the time does not say whether the first one matched.
		const firstMatches = constantTimeEqual(codes[index]!.code, first);
		const secondMatches = constantTimeEqual(codes[index + 1]!.code, second);
		if (firstMatches && secondMatches) matched = codes[index + 1]!.counter;
	}
	return matched;
}
