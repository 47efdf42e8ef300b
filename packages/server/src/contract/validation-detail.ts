/**
 * One problem with a request, in an invalid_request answer's `details`
 * (docs/errors.md). `pointer` is a JSON pointer (RFC 6901) into the part of
 * the request named by `in` ("" is the whole of it); `message` says what was
 * expected. Neither ever carries a value from the request (R-ST-4): a body may
 * hold a code, and an answer may be logged by whoever receives it.
 */
export interface ValidationDetail {
	readonly in: "body" | "query" | "path" | "header";
	readonly pointer: string;
	readonly message: string;
}

/** Escapes one reference token of a JSON pointer (RFC 6901 §3). */
export function pointerToken(name: string): string {
	return name.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** The one-sentence summary of the first problem, for the error's `message`. */
export function summarize(details: readonly ValidationDetail[]): string {
	const [first] = details;
	if (first === undefined) return "The request is malformed or fails validation.";
	const where = first.pointer === "" ? `The ${first.in}` : `${first.in} ${first.pointer}`;
	const more = details.length > 1 ? ` (and ${details.length - 1} more problem${details.length > 2 ? "s" : ""}: see details)` : "";
	return `${where} ${first.message}${more}.`;
}
