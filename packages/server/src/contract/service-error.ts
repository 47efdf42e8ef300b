import type { ErrorCode } from "./errors.js";
import type { ValidationDetail } from "./validation-detail.js";

/**
 * An expected failure with a catalog code. The public message comes from the catalog, or for an
 * invalid_request from its `details` (each names a field and what it expects); `cause` stays internal.
 */
export class ServiceError extends Error {
	override readonly name = "ServiceError";
	readonly code: ErrorCode;
	readonly retryAfterSeconds: number | undefined;
	readonly details: readonly ValidationDetail[] | undefined;

	constructor(code: ErrorCode, options: { retryAfterSeconds?: number; cause?: unknown; details?: readonly ValidationDetail[] } = {}) {
		super(code, { cause: options.cause });
		this.code = code;
		this.retryAfterSeconds = options.retryAfterSeconds;
		this.details = options.details;
	}
}

/** A 400 about one body field: the catalog code, with the field's pointer and what it must be (docs/errors.md). */
export function fieldError(code: ErrorCode, pointer: string, message: string): ServiceError {
	return new ServiceError(code, { details: [{ in: "body", pointer, message }] });
}
