import { encodeBase32 } from "../core/base32.js";
import { createHOTPKeyURI, createTOTPKeyURI } from "../core/key-uri.js";
import type { ExportToken } from "./export-token.js";

/**
 * Twofold's plaintext export (issue 17): one Key Uri Format line per factor (`otpauth://totp/…`, `otpauth://hotp/…`),
 * which authenticator apps, privacyIDEA and `twofold import --format otpauth --user-from label` read. The label is
 * "issuer:account" with the tenant's name as issuer and the user id as account, each percent-encoded (a user id may
 * hold ":" or ","), so the user comes back from the label. Secrets in the clear: the CLI asks for
 * --i-understand-plaintext first.
 */

/** The first line: a comment (`#`, skipped by otpauth list readers) saying what the file is. */
export function otpauthHeader(issuer: string, at: Date): string {
	return `# Twofold export of ${oneLine(issuer)} at ${at.toISOString()}: secrets in the clear; delete this file once imported\n`;
}

export function otpauthLine(token: ExportToken, issuer: string): string {
	const options = { issuer, accountName: token.userId, secretBase32: encodeBase32(token.secret), algorithm: token.algorithm, digits: token.digits };
	if (token.type === "hotp") {
		// No known counter (a token still needing resynchronization): the parameter is left out, so a reader imports it
		// needing a resync again rather than trusting a made-up counter.
		if (token.counter === undefined) return `${createHOTPKeyURI({ ...options, counter: 0 }).replace(/&counter=0$/, "")}\n`;
		return `${createHOTPKeyURI({ ...options, counter: token.counter })}\n`;
	}
	return `${createTOTPKeyURI({ ...options, periodInSeconds: token.period ?? 30 })}\n`;
}

function oneLine(text: string): string {
	return text.replace(/[\r\n]/g, " ");
}
