import { expect } from "vitest";
import { generateHOTP } from "../../src/core/hotp.js";
import { generateTOTP } from "../../src/core/totp.js";
import type { ImportRecord } from "../../src/token-files/import-record.js";
import { hasTool } from "../e2e/process.js";
import { type Expected, oathtoolHOTP, oathtoolTOTP } from "./token-file-helpers.js";

/** oathtool is required under CI (.ci installs Debian's oathtool); elsewhere the cross-checks skip with a message. */
export const OATHTOOL = hasTool("oathtool", "oathtool");

/** Unix times the TOTP cross-check runs at: RFC 6238's first vector time, one of its later ones, and a far one. */
const TIMES = [59, 1_111_111_109, 2_000_000_000];

/**
 * The fixture's known secret, given to oathtool, must give the codes that core/totp.ts or core/hotp.ts compute from
 * what the reader returned: the secret, algorithm, digits and period (TOTP) or next counter (HOTP) all read right.
 * The HOTP counter of a record without one is taken as 0 (the check is then of the secret alone).
 */
export function expectOathtoolAgrees(record: ImportRecord, expected: Expected): void {
	if (expected.type === "totp") {
		const period = record.period!;
		for (const unixSeconds of TIMES) {
			const reference = oathtoolTOTP(expected.hex, { algorithm: expected.algorithm, digits: expected.digits, period: expected.period!, unixSeconds });
			const ours = generateTOTP({ key: record.secret, nowInMilliseconds: unixSeconds * 1000, periodInSeconds: period, digits: record.digits, algorithm: record.algorithm });
			expect(ours, `${record.location} at ${unixSeconds}`).toBe(reference);
		}
	} else {
		// oathtool's HOTP is HMAC-SHA1 only (RFC 4226), which every HOTP fixture uses.
		expect(expected.algorithm).toBe("SHA1");
		const counter = record.counter ?? 0;
		for (const at of [counter, counter + 1]) {
			const reference = oathtoolHOTP(expected.hex, { counter: at, digits: expected.digits });
			expect(generateHOTP(record.secret, BigInt(at), record.digits, record.algorithm), `${record.location} at counter ${at}`).toBe(reference);
		}
	}
}
