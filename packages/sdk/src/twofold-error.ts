/** One problem of a 400: where (a JSON pointer into the body, query or path) and what was expected (docs/errors.md). */
export interface TwofoldErrorDetail {
	readonly in: "body" | "query" | "path" | "header";
	readonly pointer: string;
	readonly message: string;
}

/** An error answer from Twofold: the HTTP status and the catalog code (docs/errors.md). */
export class TwofoldError extends Error {
	// string, not the literal: PromptError (prompt-error.ts) is a TwofoldError with a name of its own.
	override readonly name: string = "TwofoldError";
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		/** Seconds, from Retry-After on too_many_attempts. */
		readonly retryAfterSeconds?: number,
		/** On a 400: each problem with the request, naming its field; empty otherwise. */
		readonly details: readonly TwofoldErrorDetail[] = [],
	) {
		super(message);
	}
}
