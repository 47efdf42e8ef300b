import type { FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../services/services.js";
import type { TenantContext } from "../services/tenant-context.js";
import { sendError } from "./errors.js";

declare module "fastify" {
	interface FastifyRequest {
		tenant: TenantContext;
	}
}

/** onRequest hook for the /v1 scope: runs before the body is read, so an unauthenticated caller learns nothing else. */
export function apiKeyAuth(services: Services) {
	return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
		const header = request.headers.authorization;
		const match = header === undefined ? null : /^Bearer ([!-~]+)$/.exec(header);
		// The message only: the error of a failed write names no key secret, but a driver's error object may carry more.
		const onUseNotRecorded = (error: unknown): void => request.log.warn({ reason: (error as Error).message }, "could not record the API key's last use; the request goes on");
		const ctx = match === null ? null : await services.apiKeys.authenticate(match[1]!, onUseNotRecorded);
		if (ctx === null) {
			await sendError(reply, "unauthorized");
			return;
		}
		request.tenant = ctx;
	};
}

/** The tenant of an authenticated /v1 request. */
export function tenantOf(request: FastifyRequest): TenantContext {
	return request.tenant;
}
