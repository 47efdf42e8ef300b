/**
 * The string patterns of request schemas, each with the expectation a 400
 * states when a value fails it (issue 13: a message names what was expected,
 * not a regular expression). Schemas take their pattern from here, so a
 * pattern without a human expectation cannot be written.
 */
export interface NamedPattern {
	readonly pattern: string;
	readonly expected: string;
}

function named(pattern: string, expected: string): NamedPattern {
	return { pattern, expected };
}

/** Labels and issuers go into the otpauth:// URI, where ':' separates issuer from account (Key Uri Format). */
export const NO_COLON_OR_CONTROL = named("^[^:\\x00-\\x1F\\x7F]+$", "must not contain ':' or control characters");
export const NO_CONTROL = named("^[^\\x00-\\x1F\\x7F]+$", "must not contain control characters");
/**
 * Text a page shows as it is (a tenant's display name): no C0 or C1 control, no line or paragraph separator, and no
 * bidirectional override or isolate, which could make the name read differently from what it is.
 */
export const PRINTABLE_TEXT = named(
	"^[^\\x00-\\x1F\\x7F-\\x9F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]+$",
	"must be printable text: no control, line-separator or bidirectional-override characters",
);
/** A support text may run over lines, nothing else invisible. */
export const TEXT_WITH_LINES = named(
	"^[^\\x00-\\x09\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]+$",
	"must be printable text (line breaks allowed): no other control or bidirectional-override characters",
);
export const HEX_COLOR = named("^#[0-9a-fA-F]{6}$", "must be a colour written #rrggbb, e.g. #1d4ed8");
export const PRINTABLE_ASCII = named("^[\\x20-\\x7E]+$", "must be printable ASCII (space to ~)");
export const HOST_NAME = named(
	"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$",
	"must be a lowercase host name without scheme or port, e.g. example.com",
);
export const CONTAINS_CODE_PLACEHOLDER = named("\\{\\{code\\}\\}", "must contain the placeholder {{code}}");
/** Not a tenant id: every tenant's default audience is its id, and no tenant may mint another's. */
export const AUDIENCE = named("^(?!ten_)[\\x21-\\x7E]+$", "must be printable ASCII without spaces and must not start with ten_");
export const PAGE_LIMIT = named("^[0-9]{1,3}$", "must be a whole number from 1 to 100");
export const CURSOR = named("^[0-9]{1,18}$", "must be the next_cursor of the previous page");

const EXPECTATIONS = new Map(
	[NO_COLON_OR_CONTROL, NO_CONTROL, PRINTABLE_TEXT, TEXT_WITH_LINES, HEX_COLOR, PRINTABLE_ASCII, HOST_NAME, CONTAINS_CODE_PLACEHOLDER, AUDIENCE, PAGE_LIMIT, CURSOR].map((entry) => [entry.pattern, entry.expected]),
);

/** What a value failing this pattern should have been; a generic sentence for a pattern not named here. */
export function patternExpectation(pattern: string): string {
	return EXPECTATIONS.get(pattern) ?? "has the wrong format";
}
