import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ERROR_CODES, type ErrorCode } from "../contract/errors.js";
import { summarize, type ValidationDetail } from "../contract/validation-detail.js";
import { ServiceError } from "../contract/service-error.js";
import { validationDetails } from "./validation-details.js";

export function sendError(
	reply: FastifyReply,
	code: ErrorCode,
	options: { message?: string; retryAfterSeconds?: number; details?: readonly ValidationDetail[] } = {},
): FastifyReply {
	if (options.retryAfterSeconds !== undefined) reply.header("retry-after", String(options.retryAfterSeconds));
	if (code === "unauthorized") reply.header("www-authenticate", 'Bearer realm="twofold"');
	reply.header("cache-control", "no-store");
	const details = options.details !== undefined && options.details.length > 0 ? options.details : undefined;
	// invalid_request's catalog sentence says nothing; its first problem is the message. Other 400s keep theirs.
	const message = options.message ?? (details !== undefined && code === "invalid_request" ? summarize(details) : ERROR_CODES[code].message);
	return reply.code(ERROR_CODES[code].status).send({ error: details === undefined ? { code, message } : { code, message, details } });
}

/** Fastify's body-parser failures that are the client's JSON: each named, the body never quoted. */
const BODY_PROBLEMS: Record<string, string> = {
	// secure-json-parse also refuses __proto__ and constructor.prototype keys (prototype poisoning) with this code.
	FST_ERR_CTP_INVALID_JSON_BODY: "is not valid JSON (or has a __proto__ or constructor.prototype key)",
	FST_ERR_CTP_EMPTY_JSON_BODY: "is empty; send a JSON object, or no Content-Type when there is no body",
};

/**
 * Every failure becomes a catalog error. Bodies never echo request content:
 * a JSON parse error's text can quote the body (and so a code), so only a
 * fixed sentence about it goes out; validation details name fields and
 * expectations, never values (R-ST-4). Unknown errors are logged with their
 * cause and answered 500, never as a verdict on a code (R-ST-6).
 */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
	if (error instanceof ServiceError) {
		const options = error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds };
		return sendError(reply, error.code, error.details === undefined ? options : { ...options, details: error.details });
	}
	if (error.validation !== undefined) {
		const context = error.validationContext ?? "body";
		const schema = request.routeOptions.schema as Record<string, unknown> | undefined;
		return sendError(reply, "invalid_request", { details: validationDetails(error.validation, context, schema?.[context]) });
	}
	const bodyProblem = BODY_PROBLEMS[error.code];
	if (bodyProblem !== undefined) return sendError(reply, "invalid_request", { details: [{ in: "body", pointer: "", message: bodyProblem }] });
	switch (error.code) {
		case "FST_ERR_CTP_BODY_TOO_LARGE":
			return sendError(reply, "payload_too_large");
		case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
			return sendError(reply, "unsupported_media_type");
	}
	if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
		// Every 400 names where the problem is (issue 13): here the request as a whole (a bad Content-Length, an
		// aborted body), whose text is not quoted.
		return sendError(reply, "invalid_request", { details: [{ in: "body", pointer: "", message: "is not a well-formed HTTP request body" }] });
	}
	request.log.error({ err: error }, "request failed");
	return sendError(reply, "internal_error");
}
