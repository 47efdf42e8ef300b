import type { HashAlgorithm } from "./hotp.js";

interface KeyURIOptions {
	issuer: string;
	accountName: string;
	secretBase32: string;
	algorithm: HashAlgorithm;
	digits: number;
}

/**
 * otpauth:// URI in the Key Uri Format that authenticator apps scan
 * (github.com/google/google-authenticator/wiki/Key-Uri-Format). The label is
 * "issuer:account"; both parts end up in the user's authenticator backups.
 */
export function createTOTPKeyURI(options: KeyURIOptions & { periodInSeconds: number }): string {
	return keyURI("totp", options, { period: String(options.periodInSeconds) });
}

/** The same format for HOTP (RFC 4226): `counter` is the counter of the first code the app will show (required by the format). */
export function createHOTPKeyURI(options: KeyURIOptions & { counter: number }): string {
	return keyURI("hotp", options, { counter: String(options.counter) });
}

function keyURI(type: "totp" | "hotp", options: KeyURIOptions, parameter: Record<string, string>): string {
	const label = `${encodeURIComponent(options.issuer)}:${encodeURIComponent(options.accountName)}`;
	const query = new URLSearchParams({
		secret: options.secretBase32.replace(/=+$/, ""),
		issuer: options.issuer,
		algorithm: options.algorithm,
		digits: String(options.digits),
		...parameter,
	});
	return `otpauth://${type}/${label}?${query.toString().replace(/\+/g, "%20")}`;
}
