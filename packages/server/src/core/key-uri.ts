import type { HashAlgorithm } from "./hotp.js";

/**
 * otpauth:// URI in the Key Uri Format that authenticator apps scan
 * (github.com/google/google-authenticator/wiki/Key-Uri-Format). The label is
 * "issuer:account"; both parts end up in the user's authenticator backups.
 */
export function createTOTPKeyURI(options: {
	issuer: string;
	accountName: string;
	secretBase32: string;
	algorithm: HashAlgorithm;
	digits: number;
	periodInSeconds: number;
}): string {
	const label = `${encodeURIComponent(options.issuer)}:${encodeURIComponent(options.accountName)}`;
	const query = new URLSearchParams({
		secret: options.secretBase32.replace(/=+$/, ""),
		issuer: options.issuer,
		algorithm: options.algorithm,
		digits: String(options.digits),
		period: String(options.periodInSeconds),
	});
	return `otpauth://totp/${label}?${query.toString().replace(/\+/g, "%20")}`;
}
