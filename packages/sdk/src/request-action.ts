import { type ActionValue, canonicalJSON } from "./action-hash.js";

function base64url(bytes: Uint8Array): string {
	let binary = "";
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * The usual action for an HTTP request: its method, path and a digest of its
 * (parsed JSON) body, so an assertion approves this change and not another one
 * sent to the same route. The page asks Twofold to verify with this same object
 * as `action`; the middleware recomputes it from the request it protects.
 */
export async function requestAction(method: string, path: string, body: unknown): Promise<{ method: string; path: string; body_sha256: string }> {
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalJSON((body ?? null) as ActionValue)));
	return { method: method.toUpperCase(), path, body_sha256: base64url(new Uint8Array(digest)) };
}
