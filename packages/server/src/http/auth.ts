import type { FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../services/services.js";
import type { TenantContext } from "../services/tenant-context.js";
import type { AttemptSnapshot } from "../services/proofs.js";
import { sendError } from "./errors.js";

declare module "fastify" {
	interface FastifyRequest {
		tenant: TenantContext;
		/** Set for a route with config.attemptSnapshot on PostgreSQL: the user's attempt state, read with the key (issue 19). */
		attemptSnapshot?: AttemptSnapshot;
	}
	interface FastifyContextConfig {
		/** The route makes an attempt on params.user_id: authentication reads that user's attempt state with the key (ADR 0009). */
		attemptSnapshot?: boolean;
	}
}

/** onRequest hook for the /v1 scope: runs before the body is read, so an unauthenticated caller learns nothing else. */
export function apiKeyAuth(services: Services) {
	return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
		const header = request.headers.authorization;
		const match = header === undefined ? null : /^Bearer ([!-~]+)$/.exec(header);
		// The message only: the error of a failed write names no key secret, but a driver's error object may carry more.
		const onUseNotRecorded = (error: unknown): void => request.log.warn({ reason: (error as Error).message }, "could not record the API key's last use; the request goes on");
		const userId = request.routeOptions.config.attemptSnapshot === true ? (request.params as { user_id?: unknown }).user_id : undefined;
		if (match !== null && typeof userId === "string") {
			const found = await services.apiKeys.authenticateForAttempt(match[1]!, userId, onUseNotRecorded);
			if (found === null) {
				await sendError(reply, "unauthorized");
				return;
			}
			request.tenant = found.ctx;
			if (found.snapshot !== undefined) request.attemptSnapshot = found.snapshot;
			return;
		}
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

/** The attempt state authentication read for this request's user, when it did (PostgreSQL, ADR 0009). */
export function attemptSnapshotOf(request: FastifyRequest): AttemptSnapshot | undefined {
	return request.attemptSnapshot;
}
