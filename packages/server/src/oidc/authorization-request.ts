import { canonicalHash, canonicalJSON } from "@twofold/sdk/action-hash";
import { ACR } from "../core/assertion-contract.js";

/**
 * What Twofold accepts in an authorization request beyond what oidc-provider checks itself (issue 15). Run by the
 * provider at the PAR endpoint (where every request starts: PAR is required) and again at /authorize; a problem is
 * an OAuth invalid_request naming the parameter, never echoing its value.
 */

/** The acr an authorization ends with when the tenant allows users without a factor: never a second factor. */
export const ACR_NONE = "urn:twofold:acr:none";
export const ACR_VALUES: readonly string[] = [ACR.phishingResistant, ACR.otp, ACR.recoveryCode, ACR.email, ACR_NONE];

export const INTENTS = ["verify", "enroll", "manage"] as const;
export type Intent = (typeof INTENTS)[number];

/** contract/schemas/common.ts UserId: 1-128 printable ASCII characters. */
const USER_ID = /^[\x20-\x7E]{1,128}$/;
/** The RFC 9396 type of an action to approve. */
export const ACTION_TYPE = "twofold_action";
const MAX_ACTION_BYTES = 4096;
const MAX_DESCRIPTION = 200;
const UI_LOCALE = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

export class RequestProblem extends Error {}

export function checkLoginHint(value: unknown): string {
	if (typeof value !== "string" || value.length === 0) throw new RequestProblem("login_hint is required: the application's id of the signed-in user");
	if (!USER_ID.test(value)) throw new RequestProblem("login_hint must be a user id: 1-128 printable ASCII characters");
	return value;
}

export function checkIntent(value: unknown): Intent {
	if (value === undefined || value === "") return "verify";
	if (typeof value === "string" && (INTENTS as readonly string[]).includes(value)) return value as Intent;
	throw new RequestProblem("intent must be verify, enroll or manage");
}

export function checkAcrValues(value: unknown): string[] {
	if (value === undefined || value === "") return [];
	if (typeof value !== "string") throw new RequestProblem("acr_values must be a space-separated list");
	const values = value.split(" ").filter((entry) => entry.length > 0);
	if (values.some((entry) => !ACR_VALUES.includes(entry))) throw new RequestProblem(`acr_values may name only ${ACR_VALUES.join(", ")}`);
	return values;
}

/**
 * Whether a result's acr is one the application accepts. acr_values (OIDC Core §3.1.2.1) lists the levels the
 * application accepts; Twofold holds the result to that list exactly, so the acr the application checks is always
 * one it asked for (an empty list accepts every level, and the application checks the acr itself). A no-factor
 * result (urn:twofold:acr:none) passes only when the list names it.
 */
export function acrAccepted(acrValues: readonly string[], acr: string): boolean {
	return acrValues.length === 0 || acrValues.includes(acr);
}

export function checkUiLocales(value: unknown): string[] {
	if (value === undefined || value === "") return [];
	if (typeof value !== "string" || value.length > 200) throw new RequestProblem("ui_locales must be a space-separated list of language tags");
	const values = value.split(" ").filter((entry) => entry.length > 0);
	if (values.length > 10 || values.some((entry) => !UI_LOCALE.test(entry))) throw new RequestProblem("ui_locales must be a space-separated list of language tags");
	return values;
}

export interface BoundAction {
	action: Record<string, unknown>;
	description: string;
	/** The same canonical hash as the assertions' action_hash (the SDK's action-hash). */
	hash: string;
}

/**
 * RFC 9396 authorization_details: at most one entry, of type twofold_action, with `action` (a JSON object, at
 * most 4096 bytes as canonical JSON, as a verify's action) and `description` (1-200 characters, no control
 * characters), nothing else.
 */
export async function checkAuthorizationDetails(value: unknown): Promise<BoundAction | null> {
	if (value === undefined || value === "") return null;
	let parsed: unknown;
	try {
		parsed = typeof value === "string" ? JSON.parse(value) : value;
	} catch {
		throw new RequestProblem("authorization_details must be a JSON array");
	}
	if (!Array.isArray(parsed) || parsed.length !== 1) throw new RequestProblem("authorization_details must be a JSON array of one twofold_action entry");
	const entry = parsed[0] as Record<string, unknown>;
	if (typeof entry !== "object" || entry === null || Array.isArray(entry) || entry.type !== ACTION_TYPE) throw new RequestProblem(`authorization_details entries must have type ${ACTION_TYPE}`);
	const extra = Object.keys(entry).filter((key) => !["type", "action", "description"].includes(key));
	if (extra.length > 0) throw new RequestProblem("a twofold_action entry has only type, action and description");
	const { action, description } = entry;
	if (typeof description !== "string" || description.length === 0 || description.length > MAX_DESCRIPTION || /[\x00-\x1F\x7F]/.test(description)) {
		throw new RequestProblem(`a twofold_action's description must be 1-${MAX_DESCRIPTION} characters without control characters`);
	}
	if (typeof action !== "object" || action === null || Array.isArray(action)) throw new RequestProblem("a twofold_action's action must be a JSON object");
	let canonical: string;
	try {
		canonical = canonicalJSON(action);
	} catch {
		throw new RequestProblem("a twofold_action's action must hold JSON values only, numbers finite");
	}
	if (Buffer.byteLength(canonical) > MAX_ACTION_BYTES) throw new RequestProblem(`a twofold_action's action must be at most ${MAX_ACTION_BYTES} bytes as canonical JSON`);
	return { action: action as Record<string, unknown>, description, hash: await canonicalHash(canonical) };
}
