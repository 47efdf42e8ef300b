// RFC 4226 §7.4 look-ahead and resynchronization over the Appendix D secret and codes (R-OTP-1, R-OTP-12).
import { describe, expect, it } from "vitest";
import { generateHOTP } from "./hotp.js";
import { MAX_HOTP_COUNTER, resyncHOTP, verifyHOTP, wasRecentlyUsed } from "./hotp-window.js";

const KEY = Buffer.from("12345678901234567890", "ascii");
/** RFC 4226 Appendix D: HOTP for counters 0-9. */
const APPENDIX_D = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
const base = { key: KEY, digits: 6, algorithm: "SHA1" as const };

describe("wasRecentlyUsed: counters last-lookBehind+1 … last (R-OTP-9, audit only)", () => {
	it("recognizes the codes at and just below the counter, and nothing else", () => {
		for (const counter of [3, 4, 5]) expect(wasRecentlyUsed({ ...base, code: APPENDIX_D[counter]!, lastUsed: 5, lookBehind: 3 })).toBe(true);
		for (const counter of [0, 1, 2, 6, 7]) expect(wasRecentlyUsed({ ...base, code: APPENDIX_D[counter]!, lastUsed: 5, lookBehind: 3 })).toBe(false);
		// Before the first code there is nothing behind the counter, and no negative counter is computed.
		expect(wasRecentlyUsed({ ...base, code: APPENDIX_D[0]!, lastUsed: -1, lookBehind: 11 })).toBe(false);
		expect(wasRecentlyUsed({ ...base, code: APPENDIX_D[0]!, lastUsed: 0, lookBehind: 11 })).toBe(true);
		expect(() => wasRecentlyUsed({ ...base, code: "000000", lastUsed: 5, lookBehind: 102 })).toThrow(TypeError);
	});

	it("takes a look-behind of 0 to 101 (look-ahead's bound plus the counter itself), and refuses any other as misuse", () => {
		for (const lookBehind of [-1, 102, 1.5, Number.NaN]) {
			expect(() => wasRecentlyUsed({ ...base, code: APPENDIX_D[5]!, lastUsed: 5, lookBehind })).toThrow(new TypeError("HOTP look-behind must be an integer from 0 to 101"));
		}
		// 0 looks at nothing; 100 and 101 are allowed and reach back to counter 0.
		expect(wasRecentlyUsed({ ...base, code: APPENDIX_D[5]!, lastUsed: 5, lookBehind: 0 })).toBe(false);
		expect(wasRecentlyUsed({ ...base, code: APPENDIX_D[0]!, lastUsed: 5, lookBehind: 100 })).toBe(true);
		expect(wasRecentlyUsed({ ...base, code: APPENDIX_D[0]!, lastUsed: 5, lookBehind: 101 })).toBe(true);
	});
});

describe("verifyHOTP: counters last+1 … last+1+lookAhead", () => {
	it("finds each Appendix D code at its counter from the start (last = -1)", () => {
		APPENDIX_D.forEach((code, counter) => expect(verifyHOTP({ ...base, code, lastUsed: -1, lookAhead: 9 })).toBe(counter));
	});

	it("accepts the window's last counter and refuses one beyond it, and every counter at or below last", () => {
		expect(verifyHOTP({ ...base, code: APPENDIX_D[5]!, lastUsed: 2, lookAhead: 2 })).toBe(5);
		expect(verifyHOTP({ ...base, code: APPENDIX_D[6]!, lastUsed: 2, lookAhead: 2 })).toBeNull();
		expect(verifyHOTP({ ...base, code: APPENDIX_D[3]!, lastUsed: 2, lookAhead: 0 })).toBe(3);
		for (const counter of [0, 1, 2]) expect(verifyHOTP({ ...base, code: APPENDIX_D[counter]!, lastUsed: 2, lookAhead: 9 })).toBeNull();
	});

	it("never looks past 2^53-1, the largest counter stored exactly", () => {
		const atMax = generateHOTP(KEY, BigInt(MAX_HOTP_COUNTER), 6, "SHA1");
		expect(verifyHOTP({ ...base, code: atMax, lastUsed: MAX_HOTP_COUNTER - 1, lookAhead: 3 })).toBe(MAX_HOTP_COUNTER);
		const beyond = generateHOTP(KEY, BigInt(MAX_HOTP_COUNTER) + 1n, 6, "SHA1");
		expect(verifyHOTP({ ...base, code: beyond, lastUsed: MAX_HOTP_COUNTER - 1, lookAhead: 3 })).toBeNull();
	});

	it("refuses a look-ahead outside 0-100 (misuse is a TypeError)", () => {
		for (const lookAhead of [-1, 101, 0.5, Number.NaN]) expect(() => verifyHOTP({ ...base, code: "755224", lastUsed: -1, lookAhead })).toThrow(/look-ahead must be an integer from 0 to 100/);
		expect(verifyHOTP({ ...base, code: "755224", lastUsed: -1, lookAhead: 100 })).toBe(0);
	});
});

describe("resyncHOTP: two consecutive codes within last+1 … last+window", () => {
	it("returns the second code's counter for a consecutive pair, null for any other pair", () => {
		expect(resyncHOTP({ ...base, codes: [APPENDIX_D[3]!, APPENDIX_D[4]!], lastUsed: 0, window: 9 })).toBe(4);
		expect(resyncHOTP({ ...base, codes: [APPENDIX_D[4]!, APPENDIX_D[3]!], lastUsed: 0, window: 9 })).toBeNull();
		expect(resyncHOTP({ ...base, codes: [APPENDIX_D[3]!, APPENDIX_D[5]!], lastUsed: 0, window: 9 })).toBeNull();
		expect(resyncHOTP({ ...base, codes: [APPENDIX_D[3]!, APPENDIX_D[3]!], lastUsed: 0, window: 9 })).toBeNull();
	});

	it("needs both counters inside the window: last+window is the second code's highest counter", () => {
		expect(resyncHOTP({ ...base, codes: [APPENDIX_D[8]!, APPENDIX_D[9]!], lastUsed: 1, window: 8 })).toBe(9);
		expect(resyncHOTP({ ...base, codes: [APPENDIX_D[8]!, APPENDIX_D[9]!], lastUsed: 1, window: 7 })).toBeNull();
		expect(resyncHOTP({ ...base, codes: [APPENDIX_D[1]!, APPENDIX_D[2]!], lastUsed: 1, window: 8 })).toBeNull();
		expect(resyncHOTP({ ...base, codes: [APPENDIX_D[2]!, APPENDIX_D[3]!], lastUsed: 1, window: 2 })).toBe(3);
	});

	it("refuses a window outside 2-1000 (misuse is a TypeError)", () => {
		for (const window of [1, 1001, 2.5]) expect(() => resyncHOTP({ ...base, codes: ["755224", "287082"], lastUsed: -1, window })).toThrow(/resync window must be an integer from 2 to 1000/);
		// The bound itself is allowed.
		expect(resyncHOTP({ ...base, codes: [APPENDIX_D[8]!, APPENDIX_D[9]!], lastUsed: -1, window: 1000 })).toBe(9);
	});
});
