import type { FastifyReply, FastifyRequest } from "fastify";
import type { Clock } from "../clock/clock.js";
import type { RateCounters } from "../rate-counters/rate-counters.js";
import { sendError } from "./errors.js";

const WINDOW_MS = 60_000;

export interface RateLimitOptions {
	counters: RateCounters;
	clock: Clock;
	/** Called when the counters fail; the request has been refused by then. */
	onUnavailable(error: unknown): void;
	/**
	 * How a refusal is answered; by default the catalog's JSON (sendError). The prompt's pages answer with a page and
	 * the provider's endpoints in OAuth's style (http/prompt-rate-limit.ts): same codes, statuses and Retry-After.
	 */
	refuse?: RateLimitRefusal;
}

export type RateLimitRefusal = (request: FastifyRequest, reply: FastifyReply, code: "rate_limited" | "rate_limit_unavailable", retryAfterSeconds?: number) => Promise<unknown> | unknown;

const catalogRefusal: RateLimitRefusal = (_request, reply, code, retryAfterSeconds) =>
	sendError(reply, code, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });

/**
 * onRequest hooks for the request rate limits of /v1 (issue 6), whose per-address limit also
 * covers the hosted prompt under /t/ (issue 15, server.ts). The per-address
 * limit runs before authentication, so a flood of bad keys is limited too; the
 * per-tenant limit runs after it. The address is request.ip, which believes
 * X-Forwarded-For only from TWOFOLD_TRUSTED_PROXIES (V-5a).
 *
 * A counter that cannot be read refuses the request with 503 (D-2: never fail
 * open). These limits protect availability; guessing is stopped by the
 * per-user attempt budget in the database, which no counter here can relax.
 */
export function rateLimitHook(scope: "ip" | "tenant" | "enroll", perMinute: number, options: RateLimitOptions) {
	const refuse = options.refuse ?? catalogRefusal;
	return async function rateLimit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
		// "enroll" counts one tenant's enrollments (issue 12 finding 8): each one renders a QR code, so one
		// tenant enrolling as fast as it can would otherwise take CPU from every other tenant's verifies.
		const id = scope === "ip" ? request.ip : request.tenant.tenantId;
		let result: { count: number; resetsAt: number };
		const now = options.clock().getTime();
		try {
			result = await options.counters.hit(`${scope}:${id}`, WINDOW_MS, now);
		} catch (error) {
			options.onUnavailable(error);
			await refuse(request, reply, "rate_limit_unavailable");
			return;
		}
		if (result.count > perMinute) {
			await refuse(request, reply, "rate_limited", Math.max(1, Math.ceil((result.resetsAt - now) / 1000)));
		}
	};
}
