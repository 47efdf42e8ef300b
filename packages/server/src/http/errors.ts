import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ERROR_CODES, type ErrorCode } from "../contract/errors.js";
import { ServiceError } from "../services/service-error.js";

export function sendError(reply: FastifyReply, code: ErrorCode, options: { message?: string; retryAfterSeconds?: number } = {}): FastifyReply {
	if (options.retryAfterSeconds !== undefined) reply.header("retry-after", String(options.retryAfterSeconds));
	if (code === "unauthorized") reply.header("www-authenticate", 'Bearer realm="twofold"');
	reply.header("cache-control", "no-store");
	return reply.code(ERROR_CODES[code].status).send({ error: { code, message: options.message ?? ERROR_CODES[code].message } });
}

/**
 * Every failure becomes a catalog error. Bodies never echo request content:
 * a JSON parse error's text can quote the body (and so a code), so only the
 * catalog message goes out. Unknown errors are logged with their cause and
 * answered 500, never as a verdict on a code (R-ST-6).
 */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
	if (error instanceof ServiceError) {
		const options = error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds };
		return sendError(reply, error.code, options);
	}
	if (error.validation !== undefined) {
		// Ajv messages name the failing path and rule, never the value.
		return sendError(reply, "invalid_request", { message: `${ERROR_CODES.invalid_request.message} ${error.message}` });
	}
	switch (error.code) {
		case "FST_ERR_CTP_BODY_TOO_LARGE":
			return sendError(reply, "payload_too_large");
		case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
			return sendError(reply, "unsupported_media_type");
	}
	if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
		return sendError(reply, "invalid_request");
	}
	request.log.error({ err: error }, "request failed");
	return sendError(reply, "internal_error");
}
