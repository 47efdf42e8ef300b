/**
 * A list item of the one shape Authelia's export gives every item, read without the YAML parser:
 *
 *     - key: value
 *       key: value
 *
 * each value a plain scalar whose meaning in the YAML 1.2 core schema is beyond doubt: `null`, a decimal whole
 * number, or a string of letters, digits and `+/=._@:-` and spaces (a time, a base64 secret, a user name). The parser
 * costs about 0.15 ms an item, most of an Authelia import's time; this reads the same items in a few microseconds.
 *
 * Anything else (quotes, comments, flow collections, anchors, tags, booleans, other numbers, a key twice, another
 * indentation) returns undefined and the caller parses the item with the `yaml` package, so the two never disagree:
 * test/token-files/authelia-yaml.test.ts compares them value by value.
 */
export function readPlainItem(lines: readonly string[]): Record<string, unknown> | undefined {
	const fields: Record<string, unknown> = {};
	for (let index = 0; index < lines.length; index++) {
		const match = LINE.exec(lines[index]!);
		if (match === null || (index === 0) !== (match[1] === "- ")) return undefined;
		const key = match[2]!;
		if (Object.hasOwn(fields, key) || key === "__proto__") return undefined;
		const value = plainValue(match[3]!);
		if (value === UNSURE) return undefined;
		fields[key] = value;
	}
	return lines.length === 0 ? undefined : fields;
}

const UNSURE = Symbol("unsure");

/** "- key: value" first, "  key: value" after; keys as Authelia's (lower case and "_"). */
const LINE = /^(- | {2})([a-z_]+): (.+)$/;
/** Letters, digits, + / = . _ @ : - and inner spaces; starting with a letter, digit or "_" (never an indicator). */
const SAFE = /^[A-Za-z0-9_][A-Za-z0-9+/=._@: -]*$/;
const DECIMAL = /^[0-9]+$/;
/** What the core schema reads as a number, a boolean or null (yaml 1.2 §10.3.2), besides the two cases kept. */
const TYPED = /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|~|null|Null|NULL|true|True|TRUE|false|False|FALSE)$/;

function plainValue(value: string): unknown {
	if (value === "null") return null;
	if (DECIMAL.test(value)) {
		const number = Number(value);
		return Number.isSafeInteger(number) ? number : UNSURE;
	}
	if (TYPED.test(value) || !SAFE.test(value) || value.endsWith(":") || value.endsWith(" ") || value.includes(": ")) return UNSURE;
	return value;
}
