import { encodeBase32 } from "../core/base32.js";
import { createHOTPKeyURI, createTOTPKeyURI } from "../core/key-uri.js";
import type { ExportToken } from "./export-token.js";

/**
 * Twofold's plaintext export (issue 17): one Key Uri Format line per factor (`otpauth://totp/…`, `otpauth://hotp/…`),
 * which authenticator apps, privacyIDEA and `twofold import --format otpauth --user-from label` read. The label is
 * "issuer:account" with the tenant's name as issuer and the user id as account, each percent-encoded (a tenant name
 * or a user id may hold ":" or ","; the colon between them is the only literal one), so the user comes back from the
 * label. Secrets in the clear: the CLI asks for
 * --i-understand-plaintext first.
 */

/** The first line: a comment (`#`, skipped by otpauth list readers) saying what the file is. */
export function otpauthHeader(issuer: string, at: Date): string {
	return `# Twofold export of ${oneLine(issuer)} at ${at.toISOString()}: secrets in the clear; delete this file once imported\n`;
}

export function otpauthLine(token: ExportToken, issuer: string): string {
	const options = { issuer, accountName: token.userId, secretBase32: encodeBase32(token.secret), algorithm: token.algorithm, digits: token.digits };
	let uri: string;
	if (token.type === "hotp") {
		// No known counter (a token still needing resynchronization): the parameter is left out, so a reader imports it
		// needing a resync again rather than trusting a made-up counter.
		uri = token.counter === undefined ? createHOTPKeyURI({ ...options, counter: 0 }).replace(/&counter=0$/, "") : createHOTPKeyURI({ ...options, counter: token.counter });
	} else {
		uri = createTOTPKeyURI({ ...options, periodInSeconds: token.period ?? 30 });
	}
	return `${withoutLabelIssuer(uri, issuer, token.userId)}\n`;
}

/**
 * Spaces right after the label's colon are the format's, not the account's (Key Uri Format: `issuer ":" *"%20"
 * accountname`), so readers drop them: a user id starting with a space cannot follow "issuer:". Its label is then the
 * account alone, the issuer staying in the `issuer` parameter, which readers (ours: key-uri-parse.ts) take as "no
 * issuer prefix".
 */
function withoutLabelIssuer(uri: string, issuer: string, userId: string): string {
	if (!userId.startsWith(" ")) return uri;
	// otpauth://TYPE/ then the label, which core/key-uri.ts starts with the encoded issuer and a colon.
	const labelAt = uri.indexOf("/", "otpauth://".length) + 1;
	return uri.slice(0, labelAt) + uri.slice(labelAt + encodeURIComponent(issuer).length + 1);
}

function oneLine(text: string): string {
	return text.replace(/[\r\n]/g, " ");
}
