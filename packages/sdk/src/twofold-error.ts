/** An error answer from Twofold: the HTTP status and the catalog code (docs/errors.md). */
export class TwofoldError extends Error {
	override readonly name = "TwofoldError";
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		/** Seconds, from Retry-After on too_many_attempts. */
		readonly retryAfterSeconds?: number,
	) {
		super(message);
	}
}
