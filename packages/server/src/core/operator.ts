import { createHash } from "node:crypto";
import { encodeCrockford } from "./crockford.js";
import type { RandomReader } from "./random.js";

/**
 * Operators of the console (issue 16): support staff and administrators, users of the system tenant. Roles are
 * ordered: each may do what the one before it may. viewer: read what its tenants hold, never a secret; support:
 * also unlock, reset, remove a factor, erase a user; admin: also tenant settings, API keys, webhooks, OIDC clients.
 */
export const OPERATOR_ROLES = ["viewer", "support", "admin"] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export function isOperatorRole(value: string): value is OperatorRole {
	return (OPERATOR_ROLES as readonly string[]).includes(value);
}

/** At least `needed`: the order of OPERATOR_ROLES. */
export function roleAllows(role: OperatorRole, needed: OperatorRole): boolean {
	return OPERATOR_ROLES.indexOf(role) >= OPERATOR_ROLES.indexOf(needed);
}

/**
 * An operator's name is their user id in the system tenant and the console's login_hint: lower-case letters,
 * digits and `.`, `_`, `-`, starting with a letter or digit, 1-64 characters. Nothing a browser, a log or a
 * shell would read as anything else, and no two names that look alike differ only in case.
 */
const OPERATOR_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function isOperatorName(value: string): boolean {
	return OPERATOR_NAME.test(value);
}

/** How long an enrollment link works (issue 16: 24 h, single use). */
export const ENROLLMENT_LINK_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * An enrollment link's token: 256 random bits, so a fast hash is enough at rest (as for API keys, core/api-key.ts);
 * only SHA-256 of it is stored, and the link carries it in the URL fragment, which no server or proxy log receives.
 */
export function createEnrollmentToken(random: RandomReader): { token: string; hash: string } {
	const token = encodeCrockford(random(32)).slice(0, 52);
	return { token, hash: hashEnrollmentToken(token) };
}

export function hashEnrollmentToken(token: string): string {
	return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A presented token's shape, checked before it is hashed and looked up. */
export function isEnrollmentToken(value: string): boolean {
	return /^[0-9a-hjkmnp-tv-z]{52}$/.test(value);
}
