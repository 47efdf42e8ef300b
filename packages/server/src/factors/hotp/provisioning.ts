import type { HashAlgorithm } from "../../core/hotp.js";
import { createHOTPKeyURI } from "../../core/key-uri.js";
import { otpProvisioning, type TOTPProvisioning } from "../totp/provisioning.js";

/** The same fields as TOTP's: the secret in base32, the otpauth URI and its QR code. */
export type HOTPProvisioning = TOTPProvisioning;

/**
 * What the enrolling user scans for a generated HOTP secret: the otpauth://hotp URI with the start counter, and its
 * QR code rendered in-process on a worker thread, as for TOTP (V-13, factors/totp/provisioning.ts).
 */
export function hotpProvisioning(options: {
	secret: Uint8Array;
	issuer: string;
	label: string;
	algorithm: HashAlgorithm;
	digits: number;
	counter: number;
}): Promise<HOTPProvisioning> {
	const { issuer, label: accountName, algorithm, digits, counter } = options;
	return otpProvisioning(options.secret, (secretBase32) => createHOTPKeyURI({ issuer, accountName, secretBase32, algorithm, digits, counter }));
}
