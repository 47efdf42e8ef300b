import { TokenFileError } from "./import-record.js";

/**
 * Columns of the comma-separated formats. privacyIDEA reads its own OATH CSV by splitting each line on "," and
 * stripping spaces (privacyidea/lib/importotp.py parseOATHcsv), with no quoting; pi-tokenjanitor writes ", " between
 * fields the same way. We read them as they do: a field holding a comma or a quote cannot occur in either.
 */
export function splitColumns(text: string, delimiter = ","): string[] {
	return text.split(delimiter).map((field) => field.trim());
}

/**
 * `--user-column` as the operator gave it: a 1-based column number, or a column name from a header line where the
 * format has one. Formats without a header accept numbers only; a name there is the operator's mistake, reported once
 * for the file rather than once per line.
 */
export function columnNumber(userColumn: string, header?: readonly string[]): number {
	const trimmed = userColumn.trim();
	if (/^[0-9]+$/.test(trimmed)) {
		const number = Number(trimmed);
		if (number >= 1 && Number.isSafeInteger(number)) return number - 1;
	}
	const named = header?.findIndex((name) => name === trimmed) ?? -1;
	if (named >= 0) return named;
	throw new TokenFileError(
		"invalid_user_column",
		header === undefined
			? "the user column must be a column number (1 is the first column): this format has no header line to name columns"
			: "the user column names no column of the header line (give its name as written there, or its number, 1 for the first)",
		header === undefined ? "options" : "line 1",
	);
}

/**
 * `--user-column` must not name the column holding the secret: the seed would become the user id, and a user id is
 * stored in the clear and repeated in events, webhooks and the job report (a seed there is the leak V-13 forbids). An
 * option error, for the file, before any line is read.
 */
export function refuseSeedColumn(userColumn: number, seedColumn: number): void {
	if (userColumn !== seedColumn) return;
	throw new TokenFileError(
		"invalid_user_column",
		`the user column cannot be column ${seedColumn + 1}: that column holds the token's seed (its secret), which must never become a user id`,
		"options",
	);
}
