import { type ActionValue, actionHash, canonicalJSON } from "./action-hash.js";

function base64url(bytes: Uint8Array): string {
	let binary = "";
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * The version of the request-action format. 1 (SDK before issue 12) was {method, path, body_sha256}: it left the
 * query string out, so `DELETE /tokens?id=1` and `?id=2` were one action. 2 adds the query and this number. A
 * verifier of format 2 recognizes an assertion bound to the format-1 action of the same request and refuses it
 * with the reason `outdated_action_format` instead of a bare mismatch (docs/assertions.md).
 */
export const REQUEST_ACTION_VERSION = 2;

export interface RequestAction {
	[key: string]: ActionValue;
	v: typeof REQUEST_ACTION_VERSION;
	method: string;
	path: string;
	/** The query's name/value pairs, decoded (application/x-www-form-urlencoded) and sorted by name, then value. */
	query: [string, string][];
	body_sha256: string;
}

/** UTF-16 code unit order, as canonical JSON sorts keys: no locale, the same everywhere. */
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function splitTarget(target: string): { path: string; query: [string, string][] } {
	const at = target.indexOf("?");
	if (at < 0) return { path: target, query: [] };
	const query = [...new URLSearchParams(target.slice(at + 1))].sort((a, b) => byCodeUnits(a[0], b[0]) || byCodeUnits(a[1], b[1]));
	return { path: target.slice(0, at), query };
}

async function bodyDigest(body: unknown): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalJSON((body ?? null) as ActionValue)));
	return base64url(new Uint8Array(digest));
}

/**
 * The usual action for an HTTP request: its method, path, query and a digest of its (parsed JSON) body, so an
 * assertion approves this change and not another one sent to the same route. `target` is the request target,
 * path and query as the client sent them: Express's `req.originalUrl`, Fastify's `request.url`, or
 * `location.pathname + location.search` style in the page. The page asks Twofold to verify with this same object
 * as `action`; the middleware recomputes it from the request it protects.
 */
export async function requestAction(method: string, target: string, body: unknown): Promise<RequestAction>;
/**
 * The same from a framework's request object: Express's `originalUrl` (its `url` and `path` lose the mount point,
 * and `path` the query), else `url` (Fastify, node:http). The form to prefer: it cannot leave the query out.
 */
export async function requestAction(request: { method: string; originalUrl?: string; url?: string; body?: unknown }): Promise<RequestAction>;
export async function requestAction(
	methodOrRequest: string | { method: string; originalUrl?: string; url?: string; body?: unknown },
	target?: string,
	body?: unknown,
): Promise<RequestAction> {
	let method: string;
	if (typeof methodOrRequest === "string") method = methodOrRequest;
	else {
		method = methodOrRequest.method;
		target = methodOrRequest.originalUrl ?? methodOrRequest.url;
		body = methodOrRequest.body;
	}
	if (typeof target !== "string") throw new TypeError("requestAction needs the request target (path and query)");
	// A method is an ASCII token (RFC 9110 §9.1): upper-cased in ASCII only, since toUpperCase would turn U+017F
	// LONG S into "S" and make a look-alike method the same action.
	if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) throw new TypeError("requestAction: the method is not an HTTP token");
	const { path, query } = splitTarget(target);
	return { v: REQUEST_ACTION_VERSION, method: method.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 32)), path, query, body_sha256: await bodyDigest(body) };
}

/** Whether an action is a request action of the current format (only those have an older format to recognize). */
export function isRequestAction(action: unknown): action is RequestAction {
	if (typeof action !== "object" || action === null || Array.isArray(action)) return false;
	const a = action as Record<string, unknown>;
	return a.v === REQUEST_ACTION_VERSION && typeof a.method === "string" && typeof a.path === "string" && Array.isArray(a.query) && typeof a.body_sha256 === "string";
}

/**
 * The hash the same request had in format 1 ({method, path, body_sha256}, path with or without its query as the
 * application passed it), so a verifier can say an assertion is outdated rather than for another action.
 */
export async function formatOneHashes(action: RequestAction): Promise<string[]> {
	const base = { method: action.method, body_sha256: action.body_sha256 };
	const paths = [action.path];
	if (action.query.length > 0) paths.push(`${action.path}?${new URLSearchParams(action.query).toString()}`);
	return Promise.all(paths.map((path) => actionHash({ ...base, path })));
}
