import { createHash, createHmac } from "node:crypto";
import { constantTimeEqual } from "../core/constant-time.js";
import { EnvelopeError, openSecret, sealSecret } from "../core/envelope.js";
import type { Keyring } from "../core/keyring.js";
import type { RandomReader } from "../core/random.js";

/**
 * The prompt's browser session (issue 15): an opaque random cookie, `__Host-` (so Secure, Path=/, no Domain: no
 * sibling host can set or read it), HttpOnly, SameSite=Lax. The store keeps only its SHA-256, with the tenant and
 * the interaction uid, so a leaked database row is no cookie, and a cookie is no use on another interaction.
 */
export const PROMPT_COOKIE = "__Host-twofold-prompt";
const COOKIE_BYTES = 32;
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

export const newCookieValue = (random: RandomReader): string => Buffer.from(random(COOKIE_BYTES)).toString("base64url");

/** The value of the named cookie in a Cookie header: the first with that name whose value `accept`s, or undefined. */
export function readCookie(header: string | undefined, name: string, accept: (value: string) => boolean = () => true): string | undefined {
	if (header === undefined) return undefined;
	for (const part of header.split(";")) {
		const eq = part.indexOf("=");
		if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
		const value = part.slice(eq + 1).trim();
		if (accept(value)) return value;
	}
	return undefined;
}

/** Whether a cookie value has the shape of the 256-bit random values Twofold issues (newCookieValue). */
export const isCookieValue = (value: string): boolean => COOKIE_VALUE.test(value);

/** The value of our cookie in a Cookie header, if it has the shape we issue; anything else is no session. */
export function readPromptCookie(header: string | undefined): string | undefined {
	return readCookie(header, PROMPT_COOKIE, isCookieValue);
}

/** A session cookie (no Max-Age): the row's expiry bounds it; closing the browser ends it sooner. */
export const promptCookieHeader = (value: string): string => `${PROMPT_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax`;

/** How the store knows a session: SHA-256 of the cookie, base64url (a 256-bit random value needs no slow hash). */
export const sessionIdHash = (cookie: string): string => createHash("sha256").update(`twofold/prompt-session/${cookie}`).digest("base64url");

/**
 * The CSRF synchronizer token of one session and interaction: an HMAC keyed by the session's cookie (which only the
 * browser holds; the store has its hash), over the tenant and uid. So it is the same on every page of the
 * interaction, differs for every other session and interaction, and needs no column: no token sits in the store.
 */
export function csrfToken(cookie: string, tenantId: string, interactionUid: string): string {
	return createHmac("sha256", Buffer.from(cookie, "base64url")).update(`twofold/prompt-csrf/v1\u0000${tenantId}\u0000${interactionUid}`).digest("base64url");
}

/** Compares in constant time (a token is a secret; its prefix must not be learnable from timing). */
export function csrfMatches(cookie: string, tenantId: string, interactionUid: string, submitted: unknown): boolean {
	if (typeof submitted !== "string" || submitted.length === 0 || submitted.length > 128) return false;
	return constantTimeEqual(csrfToken(cookie, tenantId, interactionUid), submitted);
}

/** The sealed columns of prompt_sessions, each bound to its row and column (a copied envelope fails to open, R-ST-2). */
export type SealedColumn = "proof_envelope" | "enrollment_envelope" | "recovery_codes_envelope";

const associated = (idHash: string, tenantId: string, uid: string, column: SealedColumn): string => `prompt_sessions/${tenantId}/${uid}/${idHash}/${column}`;

export function sealState(keyring: Keyring, random: RandomReader, key: { idHash: string; tenantId: string; uid: string }, column: SealedColumn, value: unknown): string {
	const plaintext = Buffer.from(JSON.stringify(value), "utf8");
	try {
		return sealSecret({ keyring, plaintext, associatedData: associated(key.idHash, key.tenantId, key.uid, column), random });
	} finally {
		plaintext.fill(0);
	}
}

/**
 * The sealed value, or null when there is none or it no longer opens (sealed under a master key since retired):
 * the page then starts that step again rather than failing.
 */
export function openState<T>(keyring: Keyring, key: { idHash: string; tenantId: string; uid: string }, column: SealedColumn, envelope: string | null): T | null {
	if (envelope === null) return null;
	try {
		const bytes = openSecret(keyring, envelope, associated(key.idHash, key.tenantId, key.uid, column));
		return JSON.parse(Buffer.from(bytes).toString("utf8")) as T;
	} catch (error) {
		if (error instanceof EnvelopeError) return null;
		throw error;
	}
}
