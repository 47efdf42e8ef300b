import type { OTPAlgorithm } from "./import-record.js";

/**
 * One factor as Twofold's export writes it (pskc-writer.ts, otpauth-writer.ts): the import's ImportRecord seen from
 * the other side. The secret is the raw shared secret; the caller zeroes it once written (R-ST-1).
 */
export interface ExportToken {
	userId: string;
	/** The factor's id: the PSKC Key Id, so that a re-import keeps one stable reference per factor (issue 17). */
	factorId: string;
	type: "totp" | "hotp";
	secret: Uint8Array;
	algorithm: OTPAlgorithm;
	digits: number;
	/** TOTP: the time step in seconds. */
	period?: number;
	/**
	 * HOTP: the counter of the token's NEXT code (RFC 4226 §5.2), as RFC 6030's Counter and the Key Uri Format's counter mean it;
	 * undefined when unknown (a token imported without one and not resynchronized since): written without a counter.
	 */
	counter?: number;
	label: string;
}
