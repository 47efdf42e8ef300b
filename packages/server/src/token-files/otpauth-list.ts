import type { ImportItem, ReadOptions, TokenFileReader } from "./import-record.js";
import { columnNumber, splitColumns } from "./csv-columns.js";
import { KEY_URI_SCHEME, type KeyURI, parseKeyURI } from "./key-uri-parse.js";
import { discard, labelField, problem, record, userIdField } from "./record-fields.js";
import { readLines } from "./text-lines.js";

/**
 * A list of otpauth:// URIs, one a line (what otplib-based apps, Authelia's `export uri` and many scripts write).
 * A line is the URI alone, or columns before it: `alice,otpauth://…` or `alice<TAB>otpauth://…` (the URI is the last
 * column, since its label may hold a comma). Blank lines and lines starting with "#" are skipped; a first line without
 * a URI is a header naming the columns.
 *
 * The user id, in this order: the column `userColumn` names (a number, or a header name); with `userFrom: "label"` the
 * label's account part; with `userFrom: "issuer-label"` "issuer:account"; else the one column before the URI when
 * there is exactly one. Anything else is a "missing_user" problem for that line.
 */
export const readOtpauthList: TokenFileReader = async function* (input, options) {
	let header: string[] | undefined;
	let userColumn: number | undefined;
	let seenURI = false;
	for await (const line of readLines(input)) {
		const text = line.text.trim();
		if (text === "" || text.startsWith("#")) continue;
		const location = `line ${line.number}`;
		const at = schemeAt(text);
		if (at === -1) {
			if (!seenURI && header === undefined) {
				header = splitColumns(text, text.includes("\t") ? "\t" : ",");
				continue;
			}
			yield problem(location, "invalid_uri", "the line holds no otpauth:// URI");
			continue;
		}
		if (!seenURI) {
			seenURI = true;
			if (options.userColumn !== undefined) userColumn = columnNumber(options.userColumn, header);
		}
		yield readLine(text, at, location, userColumn, options);
	}
};

function readLine(text: string, at: number, location: string, userColumn: number | undefined, options: ReadOptions): ImportItem {
	// Spaces only: a tab is a delimiter.
	const before = text.slice(0, at).replace(/ +$/, "");
	const delimiter = before.at(-1);
	if (before !== "" && delimiter !== "," && delimiter !== "\t") {
		return problem(location, "invalid_uri", "the text before the otpauth:// URI is not a column (columns end with a comma or a tab)");
	}
	const uri = text.slice(at);
	if (uri.includes("\t")) return problem(location, "invalid_uri", "the otpauth:// URI must be the last column");
	const columns = before === "" ? [uri] : [...splitColumns(before.slice(0, -1), delimiter), uri];

	let columnUser: string | undefined;
	if (userColumn !== undefined) {
		if (userColumn >= columns.length - 1) {
			return problem(location, "missing_user", `the line has no user id in column ${userColumn + 1} (the columns before the URI are the only ones read)`);
		}
		columnUser = columns[userColumn];
	} else if (options.userFrom === undefined && columns.length === 2) {
		columnUser = columns[0];
	}

	const parsed = parseKeyURI(uri);
	if (!parsed.ok) return problem(location, parsed.code, parsed.reason, knownUser(columnUser));
	const uriKey = parsed.value;

	const user = userIdField(columnUser ?? userFromLabel(uriKey, userColumn === undefined ? options.userFrom : undefined));
	if (!user.ok) {
		discard(uriKey.secret);
		const reason =
			user.code === "missing_user" && userColumn === undefined && options.userFrom === undefined
				? "no user id: put it in a column before the URI, or name where it is (--user-column, or --user-from label|issuer-label)"
				: user.code === "missing_user" && options.userFrom === "issuer-label"
					? "no user id: the URI names no issuer (label prefix or issuer parameter) for --user-from issuer-label"
					: user.reason;
		return problem(location, user.code, reason);
	}
	if (options.userFrom === "issuer-label" && userColumn === undefined && uriKey.labelIssuer !== undefined && uriKey.issuerParameter !== undefined && uriKey.labelIssuer !== uriKey.issuerParameter) {
		// Key Uri Format: when both are present they should be equal; which one made the user id would be a guess.
		discard(uriKey.secret);
		return problem(location, "issuer_mismatch", "the label's issuer and the issuer parameter differ, so the user id for --user-from issuer-label is ambiguous", user.value);
	}

	return record({
		location,
		userId: user.value,
		type: uriKey.type,
		secret: uriKey.secret,
		algorithm: uriKey.algorithm,
		digits: uriKey.digits,
		period: uriKey.period,
		counter: uriKey.counter,
		label: labelField(uriKey.account),
	});
}

function userFromLabel(uri: KeyURI, userFrom: ReadOptions["userFrom"]): string | undefined {
	if (userFrom === "label") return uri.account;
	if (userFrom === "issuer-label") {
		const issuer = uri.labelIssuer ?? uri.issuerParameter;
		return issuer === undefined || uri.account === "" ? undefined : `${issuer}:${uri.account}`;
	}
	return undefined;
}

function knownUser(text: string | undefined): string | undefined {
	const user = userIdField(text);
	return user.ok ? user.value : undefined;
}

/** Where the URI starts in a line, whatever the case of its scheme, or -1. */
function schemeAt(text: string): number {
	// ASCII letters only, so every index stays where it was (a non-ASCII label must not shift or fail the search).
	return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)).indexOf(KEY_URI_SCHEME);
}

