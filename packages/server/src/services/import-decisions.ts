import { isFactorLabel } from "../contract/schemas/factors.js";
import type { TenantSettings } from "../contract/tenant-settings.js";
import type { ImportRecord } from "../token-files/import-record.js";
import { MAX_SERIAL_LENGTH } from "./import-ref.js";

/**
 * What the import service checks of each record a reader yielded (issue 17), before any user is decided: the rules
 * enrollment applies (algorithm, digits 6-8, period 15-120 s, a user id as the API takes it), and R-OTP-4 as amended
 * for import: a secret under 80 bits is refused, 80-127 bits is accepted and flagged weak_secret unless the tenant
 * refuses weak secrets. Reasons name the field, never its value when it is secret.
 */

/** R-OTP-4 as amended: the floor for an imported secret (10 bytes), and the size below which it is weak (16 bytes). */
export const MIN_IMPORT_SECRET_BYTES = 10;
export const STRONG_SECRET_BYTES = 16;
/** Far above any HMAC block size (SHA-512's is 128 bytes): a longer "secret" is a reader's or a file's mistake. */
export const MAX_IMPORT_SECRET_BYTES = 128;

const USER_ID = /^[\x20-\x7E]{1,128}$/;
const ALGORITHMS = new Set(["SHA1", "SHA256", "SHA512"]);

export type RecordCheck = { ok: true; weak: boolean; label: string } | { ok: false; code: string; reason: string };

export function checkRecord(record: ImportRecord, settings: TenantSettings): RecordCheck {
	if (!USER_ID.test(record.userId)) return { ok: false, code: "invalid_user_id", reason: "the user id must be 1-128 printable ASCII characters" };
	if (record.type !== "totp" && record.type !== "hotp") return { ok: false, code: "unsupported_type", reason: "only TOTP and HOTP tokens can be imported" };
	const bytes = record.secret.byteLength;
	if (bytes < MIN_IMPORT_SECRET_BYTES) {
		return { ok: false, code: "secret_too_short", reason: `the secret has ${bytes * 8} bits; at least 80 are needed (R-OTP-4)` };
	}
	if (bytes > MAX_IMPORT_SECRET_BYTES) return { ok: false, code: "secret_too_long", reason: `the secret is over ${MAX_IMPORT_SECRET_BYTES} bytes` };
	const weak = bytes < STRONG_SECRET_BYTES;
	if (weak && settings.imports.weak_secrets === "refuse") {
		return { ok: false, code: "weak_secret_refused", reason: `the secret has ${bytes * 8} bits and this tenant refuses imported secrets under 128 bits (imports.weak_secrets)` };
	}
	if (!ALGORITHMS.has(record.algorithm)) return { ok: false, code: "invalid_algorithm", reason: "the algorithm must be SHA1, SHA256 or SHA512" };
	if (!Number.isInteger(record.digits) || record.digits < 6 || record.digits > 8) return { ok: false, code: "invalid_digits", reason: "digits must be 6, 7 or 8" };
	if (record.type === "totp") {
		const period = record.period ?? 30;
		if (!Number.isInteger(period) || period < 15 || period > 120) return { ok: false, code: "invalid_period", reason: "the period must be 15-120 seconds" };
		if (record.lastUsedStep !== undefined && !(Number.isSafeInteger(record.lastUsedStep) && record.lastUsedStep >= 0)) {
			return { ok: false, code: "invalid_last_used", reason: "the last used time step must be a whole number ≥ 0" };
		}
	} else if (record.counter !== undefined && !(Number.isSafeInteger(record.counter) && record.counter >= 0)) {
		return { ok: false, code: "invalid_counter", reason: "the HOTP counter must be a whole number ≥ 0" };
	}
	if (record.serial !== undefined && (record.serial.length > MAX_SERIAL_LENGTH || !/^[\x20-\x7E]+$/.test(record.serial))) {
		return { ok: false, code: "invalid_serial", reason: `the serial must be 1-${MAX_SERIAL_LENGTH} printable ASCII characters` };
	}
	// A label is a name the user reads: an unusable one falls back to the user id, as enrollment's default does.
	const label = [record.label, record.userId].find((candidate) => candidate !== undefined && isFactorLabel(candidate)) ?? "Imported token";
	return { ok: true, weak, label };
}
