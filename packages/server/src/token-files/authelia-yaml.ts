import { parse, YAMLError } from "yaml";
import { type ImportItem, TokenFileError, type TokenFileReader } from "./import-record.js";
import { algorithmField, base32Secret, digitsNumber, periodNumber, problem, record, userIdField } from "./record-fields.js";
import { readLines, type TextLine } from "./text-lines.js";
import { readPlainItem } from "./yaml-plain-item.js";

/**
 * The YAML that `authelia storage user totp export` writes (Authelia's model.TOTPConfigurationDataExport, the file
 * `authelia storage user totp import` reads back):
 *
 *     totp_configurations:
 *         - created_at: 2024-03-01T09:00:00Z
 *           last_used_at: 2024-05-02T08:15:02Z      # or null
 *           username: john
 *           issuer: Authelia
 *           algorithm: SHA1
 *           digits: 6
 *           period: 30
 *           secret: SkJTV1kzRFBFSFBLM1BYUA==
 *
 * `secret` is base64 (Go's StdEncoding) of the bytes Authelia stores, and those are the base32 text of the key
 * (Authelia puts them as they are in the otpauth URI's secret parameter: model.TOTPConfiguration.URI), so it is
 * decoded twice: base64, then base32. The user id is `username`. `last_used_at` becomes the replay fence
 * (lastUsedStep): Authelia accepts a code up to one step either side of the current one by default (its `skew`), so a
 * code it accepted at last_used_at belongs to a step no later than the one after last_used_at's, and that step is
 * the fence: no code Authelia may have accepted then is accepted again (R-OTP-1).
 *
 * Streamed: the file is never parsed whole (100,000 users, issue 17). The list under `totp_configurations:` is cut
 * into its items by indentation, line by line, and each item alone is read: in the plain shape Authelia writes by
 * yaml-plain-item.ts, anything else by the `yaml` package.
 */
export const readAutheliaYAML: TokenFileReader = async function* (input) {
	let state: "seeking" | "list" | "done" = "seeking";
	let itemIndent: number | undefined;
	let item: Item | undefined;
	let count = 0;

	for await (const line of readLines(input)) {
		const text = line.text;
		if (state === "seeking") {
			if (/^totp_configurations\s*:\s*(#.*)?$/.test(text)) state = "list";
			else if (/^totp_configurations\s*:\s*\[\s*\]\s*(#.*)?$/.test(text)) state = "done";
			else if (/^totp_configurations\s*:/.test(text)) {
				throw new TokenFileError("unsupported_yaml", "totp_configurations must be a block list (one \"- \" item after another), as Authelia writes it", `line ${line.number}`);
			}
			continue;
		}
		if (state === "done") {
			if (/^totp_configurations\s*:/.test(text)) throw new TokenFileError("invalid_yaml", "the key totp_configurations appears twice", `line ${line.number}`);
			continue;
		}
		if (text.trim() === "" || text.trimStart().startsWith("#")) {
			item?.add(line);
			continue;
		}
		if (text.startsWith("\t")) throw new TokenFileError("invalid_yaml", "YAML indentation must be spaces, not tabs", `line ${line.number}`);
		const indent = text.length - text.trimStart().length;
		const startsItem = /^-(\s|$)/.test(text.slice(indent));
		if (itemIndent === undefined && startsItem) itemIndent = indent;
		if (itemIndent !== undefined && indent === itemIndent && startsItem) {
			if (item !== undefined) yield item.read(++count);
			item = new Item(line, itemIndent);
		} else if (item !== undefined && itemIndent !== undefined && indent > itemIndent) {
			item.add(line);
		} else {
			// A line at the list's indentation or left of it that starts no item: the list has ended.
			if (item !== undefined) yield item.read(++count);
			item = undefined;
			state = "done";
			if (/^totp_configurations\s*:/.test(text)) throw new TokenFileError("invalid_yaml", "the key totp_configurations appears twice", `line ${line.number}`);
		}
	}
	if (item !== undefined) yield item.read(++count);
	if (state === "seeking") {
		throw new TokenFileError("missing_key", "no totp_configurations: this is not a file of authelia storage user totp export", "end of file");
	}
};

/** One list item's lines (bounded: a real item is 9 short lines), parsed when the next item starts. */
const MAX_ITEM_BYTES = 64 * 1024;

class Item {
	private readonly lines: string[] = [];
	private bytes = 0;
	readonly firstLine: number;

	constructor(
		first: TextLine,
		private readonly indent: number,
	) {
		this.firstLine = first.number;
		this.add(first);
	}

	add(line: TextLine): void {
		this.bytes += line.text.length + 1;
		if (this.bytes > MAX_ITEM_BYTES) {
			throw new TokenFileError("item_too_large", `the totp_configurations item from line ${this.firstLine} is longer than ${MAX_ITEM_BYTES} bytes`, `line ${line.number}`);
		}
		// Dedented, so the item parses as a list of one at the left margin.
		this.lines.push(line.text.slice(Math.min(this.indent, line.text.length - line.text.trimStart().length)));
	}

	read(index: number): ImportItem {
		const location = `totp_configurations item ${index} (line ${this.firstLine})`;
		const plain = readPlainItem(this.lines);
		if (plain !== undefined) {
			this.lines.length = 0;
			return readConfiguration(plain, location);
		}
		let parsed: unknown;
		try {
			// No aliases: an item has nothing to share, and an alias is how a small YAML text grows without bound.
			parsed = parse(this.lines.join("\n"), { schema: "core", maxAliasCount: 0, uniqueKeys: true, prettyErrors: false });
		} catch (error) {
			// The parser's message quotes the source around the error, which may be the secret: only its code goes out.
			const code = error instanceof YAMLError ? error.code : "unknown";
			return problem(location, "invalid_yaml", `the item is not valid YAML (${code})`);
		}
		this.lines.length = 0;
		const fields = Array.isArray(parsed) && parsed.length === 1 ? parsed[0] : undefined;
		if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
			return problem(location, "invalid_yaml", "the item is not a mapping of created_at, username, secret, …");
		}
		return readConfiguration(fields as Record<string, unknown>, location);
	}
}

function readConfiguration(fields: Record<string, unknown>, location: string): ImportItem {
	const username = fields.username;
	const user = userIdField(typeof username === "string" ? username.trim() : typeof username === "number" && Number.isSafeInteger(username) ? String(username) : undefined);
	if (!user.ok) return problem(location, user.code, user.code === "missing_user" ? "no username" : `username: ${user.reason}`);
	const userId = user.value;

	const algorithm = algorithmField(typeof fields.algorithm === "string" ? fields.algorithm : fields.algorithm === undefined ? undefined : "?");
	if (!algorithm.ok) return problem(location, algorithm.code, algorithm.reason, userId);
	const digits = digitsNumber(fields.digits ?? 6);
	if (!digits.ok) return problem(location, digits.code, digits.reason, userId);
	const period = periodNumber(fields.period ?? 30);
	if (!period.ok) return problem(location, period.code, period.reason, userId);

	let lastUsedStep: number | undefined;
	const lastUsed = fields.last_used_at;
	if (lastUsed !== undefined && lastUsed !== null) {
		const time = typeof lastUsed === "string" && RFC3339.test(lastUsed.trim()) ? Date.parse(lastUsed.trim()) : Number.NaN;
		if (!Number.isFinite(time) || time < 0) return problem(location, "invalid_last_used", "last_used_at must be null or an RFC 3339 time", userId);
		lastUsedStep = Math.floor(time / 1000 / period.value) + AUTHELIA_DEFAULT_SKEW;
	}

	const secret = autheliaSecret(fields.secret);
	if (!secret.ok) return problem(location, secret.code, secret.reason, userId);
	return record({ location, userId, type: "totp", secret: secret.value, algorithm: algorithm.value, digits: digits.value, period: period.value, lastUsedStep });
}

/** Authelia's default `totp.skew` (steps accepted either side of the current one). */
const AUTHELIA_DEFAULT_SKEW = 1;

/** What Go's time.Time marshals to in YAML: RFC 3339 with optional fraction (nanoseconds). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function autheliaSecret(value: unknown): ReturnType<typeof base32Secret> {
	if (value === undefined || value === null || value === "") return { ok: false, code: "missing_secret", reason: "no secret" };
	if (typeof value !== "string" || !BASE64.test(value.trim())) {
		return { ok: false, code: "invalid_secret", reason: "the secret is not base64 (Authelia writes the base32 key base64-encoded)" };
	}
	const bytes = Buffer.from(value.trim(), "base64");
	// The stored bytes are the base32 text of the key; anything else is not what Authelia writes.
	const text = bytes.toString("latin1");
	bytes.fill(0);
	return base32Secret(text, "secret (base64 of the base32 key)");
}
