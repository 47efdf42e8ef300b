import { asciiLowerCase } from "../core/ascii.js";
import type { ImportFormat } from "./import-record.js";
import { splitColumns } from "./csv-columns.js";

/** How much of the file detection looks at: enough for a header, comments and a few rows of any format. */
export const DETECT_BYTES = 64 * 1024;

const TOKEN_TYPES = new Set(["hotp", "totp"]);
/** Types privacyIDEA's OATH CSV may name besides HOTP and TOTP (refused later, one problem a row, but still that format). */
const OATH_CSV_TYPES = new Set(["hotp", "totp", "ocra", "tan"]);
const HEX = /^[0-9a-fA-F]+$/;

/**
 * The format of a token file from its first bytes, or undefined when they do not say it clearly: the caller then asks
 * for the format to be named (`--format`, `?format=`), rather than guessing into a wrong reader. Give it the file's
 * first DETECT_BYTES bytes, or the whole file when it is shorter: a line cut short anywhere else (a first network
 * chunk) could be misjudged (`alice@realm, 00123` looks like an OATH CSV row).
 *
 * - `<?xml` or a `KeyContainer` element (any case) first: PSKC (RFC 6030).
 * - a line with `otpauth://`: an otpauth list.
 * - a top-level `totp_configurations:` key: Authelia's YAML export.
 * - `# version: 2` as the first line, or a row `serial, hex seed, hotp|totp|ocra|tan, …`: privacyIDEA's OATH CSV.
 * - a row `owner, serial, seed, hotp|totp, digits[, step]` whose owner is "n/a" or has an "@realm": pi-tokenjanitor's CSV.
 */
export function detectFormat(firstBytes: Uint8Array): ImportFormat | undefined {
	let text = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(firstBytes.subarray(0, DETECT_BYTES));
	if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
	const start = text.trimStart();
	// Any case: privacyIDEA's PSKC export goes through BeautifulSoup, which writes <keycontainer>.
	if (/^<\?xml\b/i.test(start) || /^<([A-Za-z_][\w.-]*:)?KeyContainer\b/i.test(start)) return "pskc";
	if (start.startsWith("<")) return undefined;

	// The last line may be cut off by the byte limit: judge complete lines only, unless the file ended there.
	const lines = text.split("\n");
	if (firstBytes.length >= DETECT_BYTES && lines.length > 1) lines.pop();
	let first = true;
	for (const raw of lines) {
		const line = raw.replace(/\r$/, "");
		const trimmed = line.trim();
		if (trimmed === "") continue;
		if (first) {
			first = false;
			if (/^#\s*version:\s*2\s*$/i.test(trimmed)) return "oath-csv";
		}
		if (trimmed.startsWith("#") || trimmed === "---" || trimmed.startsWith("%YAML")) continue;
		if (/^totp_configurations\s*:/.test(line)) return "authelia";
		if ((asciiLowerCase(trimmed) ?? "").includes("otpauth://")) return "otpauth";
		const csv = csvFormat(splitColumns(trimmed));
		if (csv !== undefined) return csv;
		// A header line or a YAML key that is not ours: look at the next line, as long as nothing contradicts.
		if (/^[A-Za-z_][\w-]*\s*:/.test(line)) continue;
		if (trimmed.includes(",") || trimmed.includes("\t")) continue;
		return undefined;
	}
	return undefined;
}

function csvFormat(columns: string[]): ImportFormat | undefined {
	const lower = columns.map((column) => asciiLowerCase(column) ?? "");
	// OATH CSV v1: serial, hex seed, type[, digits[, step]]; privacyIDEA's own sample has just "serial, seed" too.
	if (columns.length >= 2 && columns.length <= 6 && HEX.test(columns[1]!) && (columns.length === 2 || OATH_CSV_TYPES.has(lower[2]!))) {
		return "oath-csv";
	}
	// pi-tokenjanitor: owner, serial, seed (hex or base32), hotp|totp, digits[, step].
	if ((columns.length === 5 || columns.length === 6) && TOKEN_TYPES.has(lower[3]!) && /^[0-9]+$/.test(columns[4]!)) {
		const owner = columns[0]!;
		if (owner === "n/a" || owner.includes("@")) return "pi-csv";
	}
	return undefined;
}
