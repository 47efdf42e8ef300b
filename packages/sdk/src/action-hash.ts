/**
 * What one step-up assertion approves: a canonical JSON of the action (for
 * example {"method": "POST", "path": "/account/email", "body_sha256": "…"}),
 * hashed with SHA-256 into the assertion's `action_hash`. Twofold computes it
 * when a verify carries `"action"`; the verifier computes it again from the
 * request it protects, so one proof approves one operation.
 *
 * Canonical form (the JSON subset of RFC 8785): object keys sorted by UTF-16
 * code units, no whitespace, strings and finite numbers as JSON.stringify
 * writes them. Anything JSON cannot say (undefined, functions, NaN, ∞, bigint)
 * is refused rather than silently dropped, so two different actions cannot
 * canonicalize alike.
 */
export type ActionValue = null | boolean | number | string | ActionValue[] | { [key: string]: ActionValue };

export class ActionError extends TypeError {}

export function canonicalJSON(value: unknown): string {
	if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
	if (typeof value === "number") {
		if (!Number.isFinite(value)) throw new ActionError("an action may hold only finite numbers");
		return JSON.stringify(value);
	}
	if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(",")}]`;
	if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
		const entries = Object.keys(value)
			.sort()
			.map((key) => `${JSON.stringify(key)}:${canonicalJSON((value as Record<string, unknown>)[key])}`);
		return `{${entries.join(",")}}`;
	}
	throw new ActionError(`an action may hold only JSON values, not ${typeof value}`);
}

function base64url(bytes: Uint8Array): string {
	let binary = "";
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** base64url(SHA-256(canonical JSON)), with WebCrypto, so it runs the same in Node and in browsers. */
export function actionHash(action: ActionValue): Promise<string> {
	return canonicalHash(canonicalJSON(action));
}

/** The hash of a canonical JSON text already made (Twofold checks its size first, so it canonicalizes once). */
export async function canonicalHash(canonical: string): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
	return base64url(new Uint8Array(digest));
}
