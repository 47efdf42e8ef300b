import { asciiUpperCase } from "../core/ascii.js";
import { decodeBase32 } from "../core/base32.js";
import { isFactorLabel } from "../contract/schemas/factors.js";
import { PRINTABLE_ASCII } from "../contract/schemas/patterns.js";
import type { ImportItem, ImportProblem, ImportRecord, OTPAlgorithm } from "./import-record.js";

/**
 * The checks every text reader applies to a record's fields, so one malformed record becomes one problem with a code
 * and a location instead of an exception (issue 17), and the same field is judged the same way in every format.
 * A problem's reason names the field and what was expected; it never repeats a secret's value (R-ST-4).
 */

/** A field check's answer: the value, or the problem's code and reason. */
export type Checked<T> = { ok: true; value: T } | { ok: false; code: string; reason: string };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const refused = <T>(code: string, reason: string): Checked<T> => ({ ok: false, code, reason });

/** R-OTP-4 as amended for import: shorter secrets are refused whatever the tenant says. */
export const MIN_SECRET_BITS = 80;
/** The HMAC block size of SHA-512 (RFC 2104 §2): a longer key is hashed first, so nothing real needs more. */
export const MAX_SECRET_BYTES = 128;

/** The digits enrollment accepts (RFC 4226 §5.3: at least 6; core/hotp.ts computes 6 to 8). */
export const MIN_DIGITS = 6;
export const MAX_DIGITS = 8;
/** The TOTP periods enrollment accepts (contract/schemas/factors.ts): RFC 6238 §5.2 recommends 30 s. */
export const MIN_PERIOD = 15;
export const MAX_PERIOD = 120;
export const DEFAULT_PERIOD = 30;

const DECIMAL = /^[0-9]+$/;
const HEX = /^[0-9a-fA-F]+$/;
const USER_ID = new RegExp(PRINTABLE_ASCII.pattern);
const USER_ID_MAX_LENGTH = 128;

export function problem(location: string, code: string, reason: string, userId?: string): ImportItem {
	const found: ImportProblem = { location, code, reason };
	if (userId !== undefined) found.userId = userId;
	return { kind: "problem", problem: found };
}

export function record(value: ImportRecord): ImportItem {
	return { kind: "record", record: value };
}

/** A hex seed (privacyIDEA's OATH CSV, pi-tokenjanitor's CSV): an even number of hex digits. */
export function hexSecret(text: string, field: string): Checked<Uint8Array> {
	if (text === "") return refused("missing_secret", `the ${field} is empty`);
	if (!HEX.test(text) || text.length % 2 !== 0) return refused("invalid_secret", `the ${field} is not hexadecimal (an even number of 0-9, a-f)`);
	const bytes = new Uint8Array(text.length / 2);
	for (let index = 0; index < bytes.length; index++) bytes[index] = Number.parseInt(text.slice(index * 2, index * 2 + 2), 16);
	return checkSecretSize(bytes, field);
}

/** A base32 secret (Key Uri Format; RFC 4648 §6): upper or lower case, "=" padding tolerated. */
export function base32Secret(text: string, field: string): Checked<Uint8Array> {
	if (text === "") return refused("missing_secret", `the ${field} is empty`);
	const bytes = decodeBase32(text);
	if (bytes === null) return refused("invalid_secret", `the ${field} is not base32 (A-Z and 2-7, RFC 4648)`);
	return checkSecretSize(bytes, field);
}

/** R-OTP-4 as amended: under 80 bits refused on import too; the 80-127 bit "weak" flag is the import service's. */
function checkSecretSize(bytes: Uint8Array, field: string): Checked<Uint8Array> {
	if (bytes.length * 8 < MIN_SECRET_BITS) {
		const bits = bytes.length * 8;
		bytes.fill(0);
		return refused("secret_too_short", `the ${field} has ${bits} bits; at least ${MIN_SECRET_BITS} are needed (R-OTP-4)`);
	}
	if (bytes.length > MAX_SECRET_BYTES) {
		const size = bytes.length;
		bytes.fill(0);
		return refused("secret_too_long", `the ${field} has ${size} bytes; at most ${MAX_SECRET_BYTES} are accepted`);
	}
	return ok(bytes);
}

/** Digits as text (a CSV column, a URI parameter); `fallback` when the source left it out. */
export function digitsField(text: string | undefined, fallback = MIN_DIGITS): Checked<number> {
	if (text === undefined || text === "") return ok(fallback);
	if (!DECIMAL.test(text)) return refused("invalid_digits", `digits must be a whole number from ${MIN_DIGITS} to ${MAX_DIGITS}`);
	return digitsNumber(Number(text));
}

export function digitsNumber(value: unknown): Checked<number> {
	if (typeof value !== "number" || !Number.isInteger(value) || value < MIN_DIGITS || value > MAX_DIGITS) {
		return refused("invalid_digits", `digits must be a whole number from ${MIN_DIGITS} to ${MAX_DIGITS}`);
	}
	return ok(value);
}

export function periodField(text: string | undefined, fallback = DEFAULT_PERIOD): Checked<number> {
	if (text === undefined || text === "") return ok(fallback);
	if (!DECIMAL.test(text)) return refused("invalid_period", `the TOTP period must be a whole number of seconds from ${MIN_PERIOD} to ${MAX_PERIOD}`);
	return periodNumber(Number(text));
}

export function periodNumber(value: unknown): Checked<number> {
	if (typeof value !== "number" || !Number.isInteger(value) || value < MIN_PERIOD || value > MAX_PERIOD) {
		return refused("invalid_period", `the TOTP period must be a whole number of seconds from ${MIN_PERIOD} to ${MAX_PERIOD}`);
	}
	return ok(value);
}

/** An HOTP counter: a whole number the 8-byte counter of RFC 4226 §5.2 holds and a JavaScript number keeps exact. */
export function counterField(text: string): Checked<number> {
	if (!DECIMAL.test(text) || !Number.isSafeInteger(Number(text))) {
		return refused("invalid_counter", "the HOTP counter must be a whole number from 0 to 2^53-1");
	}
	return ok(Number(text));
}

/** SHA1, SHA256 or SHA512 in any ASCII case ("sha256", "SHA-256" and "HmacSHA256" are not the Key Uri Format's names). */
export function algorithmField(text: string | undefined, fallback: OTPAlgorithm = "SHA1"): Checked<OTPAlgorithm> {
	if (text === undefined || text === "") return ok(fallback);
	const name = asciiUpperCase(text);
	if (name === "SHA1" || name === "SHA256" || name === "SHA512") return ok(name);
	return refused("unsupported_algorithm", "the algorithm must be SHA1, SHA256 or SHA512");
}

/** The user id rule of the API (contract/schemas/common.ts UserId): 1-128 printable ASCII characters. */
export function userIdField(text: string | undefined): Checked<string> {
	if (text === undefined || text === "") return refused("missing_user", "no user id");
	if (text.length > USER_ID_MAX_LENGTH || !USER_ID.test(text)) {
		return refused("invalid_user_id", `the user id must be 1-${USER_ID_MAX_LENGTH} printable ASCII characters (space to ~)`);
	}
	return ok(text);
}

/** A source's label kept only when enrollment would accept it as a factor label; else the factor is named by default. */
export function labelField(text: string | undefined): string | undefined {
	const trimmed = text?.trim();
	return trimmed !== undefined && isFactorLabel(trimmed) ? trimmed : undefined;
}

/** Zeroes a secret that will not be handed on (a record refused after its secret was decoded). */
export function discard(secret: Checked<Uint8Array> | Uint8Array | undefined): void {
	if (secret === undefined) return;
	if (secret instanceof Uint8Array) secret.fill(0);
	else if (secret.ok) secret.value.fill(0);
}
