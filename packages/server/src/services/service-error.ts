import type { ErrorCode } from "../contract/errors.js";

/** An expected failure with a catalog code. The public message comes from the catalog; `cause` stays internal. */
export class ServiceError extends Error {
	override readonly name = "ServiceError";
	readonly code: ErrorCode;
	readonly retryAfterSeconds: number | undefined;

	constructor(code: ErrorCode, options: { retryAfterSeconds?: number; cause?: unknown } = {}) {
		super(code, { cause: options.cause });
		this.code = code;
		this.retryAfterSeconds = options.retryAfterSeconds;
	}
}
