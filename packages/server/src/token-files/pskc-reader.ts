import type { ImportItem, ImportRecord, OTPAlgorithm, ReadOptions, TokenFileReader } from "./import-record.js";
import { PSKCDecryption } from "./pskc-encryption.js";
import { firstEncryptedValue, locationOf, readKeyPackage, type PSKCKey, type PSKCKeyItem } from "./pskc-key-package.js";
import { readContainerChildren } from "./pskc-xml.js";

/**
 * The PSKC reader (RFC 6030), for `twofold import --format pskc`: plain keys, pre-shared-key encryption (§6.1) and
 * PBKDF2 password-based encryption (§6.2), and privacyIDEA's pi-tokenjanitor export (a pre-shared-key PSKC file
 * with lower-cased names; see pskc-xml.ts). What each element means, and what is refused, is in docs/pskc.md.
 */

/** The file's key packages as the file states them (pskc-key-package.ts), streamed; the RFC vectors are checked here. */
export async function* readPSKCKeys(input: AsyncIterable<Uint8Array>, options: ReadOptions): AsyncGenerator<PSKCKeyItem, void, undefined> {
	const decryption = new PSKCDecryption(options);
	try {
		for await (const child of readContainerChildren(input)) {
			if (child.packageIndex === 0) {
				decryption.addHeader(child.element);
				continue;
			}
			const encrypted = decryption.isReady ? undefined : firstEncryptedValue(child.element);
			if (encrypted !== undefined) await decryption.prepare(encrypted, locationOf(child.element, child.packageIndex));
			yield readKeyPackage(child.element, child.packageIndex, decryption);
		}
	} finally {
		decryption.dispose();
	}
}

export const readPSKC: TokenFileReader = async function* readPSKC(input, options) {
	for await (const item of readPSKCKeys(input, options)) {
		yield item.kind === "problem" ? item : toImportItem(item.key);
	}
};

/** The last part of an algorithm URN: "urn:ietf:params:xml:ns:keyprov:pskc:hotp" → "hotp" (drafts used "…pskc#hotp"). */
function algorithmName(urn: string | undefined): string | undefined {
	if (urn === undefined) return undefined;
	const parts = urn.trim().toLowerCase().split(/[:#]/);
	return parts[parts.length - 1];
}

/** AlgorithmParameters/Suite: "sha256", "SHA-256", "HMAC-SHA256"; RFC 4226 HOTP is SHA-1 when the file says nothing. */
function hashOf(suite: string | undefined): OTPAlgorithm | undefined {
	if (suite === undefined) return "SHA1";
	const name = suite.trim().toLowerCase().replace(/^hmac-?/, "").replace("-", "");
	return ({ sha1: "SHA1", sha256: "SHA256", sha512: "SHA512" } as const)[name];
}

/** Twofold's rules on one package (the same limits as enrollment: 6-8 digits, a 15-120 s period). */
export function toImportItem(key: PSKCKey): ImportItem {
	const userId = key.keyUserId ?? key.deviceUserId;
	const problem = (code: string, reason: string): ImportItem => {
		key.secret?.fill(0);
		return { kind: "problem", problem: { location: key.location, code, reason, ...(userId !== undefined ? { userId } : {}) } };
	};
	const type = algorithmName(key.algorithm);
	if (type !== "totp" && type !== "hotp") {
		return problem("unsupported_type", key.algorithm === undefined ? "the Key has no Algorithm" : "the Key's Algorithm is not HOTP or TOTP (RFC 6030 §10: pskc:hotp, pskc:totp)");
	}
	// RFC 6030 §4.3.2 Key/UserId names the key's user; §4.3.1 DeviceInfo/UserId the device's, used when the key has none.
	if (userId === undefined) return problem("missing_user", "neither Key/UserId nor DeviceInfo/UserId names the user");
	if (key.secret === undefined || key.secret.byteLength === 0) return problem("missing_secret", "the Key has no Data/Secret value");
	const digits = key.responseLength ?? 6;
	if (!Number.isInteger(digits) || digits < 6 || digits > 8) return problem("invalid_digits", "ResponseFormat's Length is not 6, 7 or 8");
	if ((key.responseEncoding !== undefined && key.responseEncoding.toUpperCase() !== "DECIMAL") || key.checkDigits === true) {
		return problem("unsupported_encoding", "ResponseFormat is not plain DECIMAL (no check digit)");
	}
	const algorithm = hashOf(key.suite);
	if (algorithm === undefined) return problem("unsupported_algorithm", "AlgorithmParameters/Suite is not SHA1, SHA256 or SHA512");
	const record: ImportRecord = { location: key.location, userId, type, secret: key.secret, algorithm, digits };
	const serial = key.keyId ?? key.serialNo;
	if (serial !== undefined) record.serial = serial;
	if (key.friendlyName !== undefined) record.label = key.friendlyName;
	if (type === "hotp") {
		// RFC 6030 §4.3.4: Counter is the event counter the token will use next (the examples start fresh tokens at 0,
		// whose first code is HOTP(K, 0)); privacyIDEA writes its token.count, also the next counter. No Counter: the
		// factor is imported needing resynchronization.
		if (key.counter !== undefined) record.counter = key.counter;
		return { kind: "record", record };
	}
	const period = key.timeInterval ?? 30;
	if (!Number.isInteger(period) || period < 15 || period > 120) return problem("invalid_period", "Data/TimeInterval is not between 15 and 120 seconds");
	// Data/Time is the T0 of RFC 6238 (§4.1): codes are counted from the Unix epoch here, so only 0 is accepted.
	if (key.time !== undefined && key.time !== 0) return problem("unsupported_time", "Data/Time (the TOTP start time T0) is not 0");
	record.period = period;
	// RFC 6030 defines Counter for event-based tokens only. privacyIDEA stores, for TOTP, the step after the last one
	// it accepted, and writes it there; so a positive Counter on a TOTP key is read as lastUsedStep + 1.
	if (key.counter !== undefined && key.counter > 0) record.lastUsedStep = key.counter - 1;
	return { kind: "record", record };
}
