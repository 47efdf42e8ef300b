import type { FastifyReply, FastifyRequest } from "fastify";
import { randomBytes } from "node:crypto";
import { ERROR_CODES } from "../contract/errors.js";
import { chooseLocale, translator } from "../pages/i18n.js";
import { renderStopPage } from "../pages/stop-page.js";
import { promptPageHeaders } from "./prompt-headers.js";
import type { RateLimitRefusal } from "./rate-limit.js";
import { PROMPT_ASSETS } from "./routes/prompt-assets.js";

/**
 * Where a browser lands (the authorization endpoint and its resume, the interaction pages, logout): the user reads
 * the answer, so a refusal is a page. Everything else under /t/{tenant}/ is an application's back channel (PAR,
 * token, discovery, JWKS), whose OAuth library reads `error` from a JSON body.
 */
const BROWSER_PATH = /^\/t\/[^/?#]+\/(?:authorize|interaction|logout)(?:[/?#]|$)/;

export const isPromptBrowserPath = (url: string | undefined): boolean => BROWSER_PATH.test(url ?? "");

/**
 * How the per-address limit refuses a request under /t/ (issue 15): the /v1 catalog's code, status and Retry-After,
 * in the shape the caller understands. A browser gets the prompt's stop page in its language with the pages' security
 * headers (a page cannot redirect to the application with an OAuth error here: that needs the client and its
 * redirect URI checked, which is the work the limit exists to refuse). An application's OAuth library gets RFC 6749
 * §5.2's JSON, `{"error": code, "error_description": message}`, whose `error` is the catalog's code (an extension
 * error value, RFC 6749 §8.5), so it is one code across the API and the prompt.
 */
export function promptRateLimitRefusal(https: () => boolean): RateLimitRefusal {
	return (request: FastifyRequest, reply: FastifyReply, code, retryAfterSeconds) => {
		const { status, message } = ERROR_CODES[code];
		if (retryAfterSeconds !== undefined) reply.header("retry-after", String(retryAfterSeconds));
		if (isPromptBrowserPath(request.raw.url)) {
			const locale = chooseLocale([], request.headers["accept-language"], undefined);
			const limited = code === "rate_limited";
			const html = renderStopPage({
				locale,
				t: translator(locale),
				title: limited ? "stop.rate_limited_title" : "stop.unavailable_title",
				body: limited ? "stop.rate_limited_body" : "stop.unavailable_body",
				stylesheet: PROMPT_ASSETS.stylesheet,
			});
			return reply
				.code(status)
				.headers(promptPageHeaders({ nonce: randomBytes(16).toString("base64url"), https: https() }))
				.type("text/html; charset=utf-8")
				.send(html);
		}
		return reply.code(status).header("cache-control", "no-store").send({ error: code, error_description: message });
	};
}
