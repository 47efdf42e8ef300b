import { scrypt } from "node:crypto";
import { asciiLowerCase } from "./ascii.js";
import { constantTimeEqual } from "./constant-time.js";
import { encodeCrockford } from "./crockford.js";
import type { RandomReader } from "./random.js";

/**
 * Recovery codes: 16 Crockford base32 characters = 80 bits from the CSPRNG
 * (R-RC-1 asks for >= 64), shown as "xxxx-xxxx-xxxx-xxxx". Input forgives
 * hyphens and letter case, nothing else.
 *
 * Storage (R-RC-2, NIST 63B-4 §3.1.2.2): codes under 112 bits must be stored
 * with a unique salt of >= 32 bits under a password hashing scheme; the work
 * factor may be small. We use scrypt with a 128-bit salt per code.
 */
export const RECOVERY_CODE_COUNT = 10;
const CODE_BYTES = 10;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
// N = 2^10, r = 8, p = 1: 1 MiB and about 1.5 ms a hash. The attempt budget
// bounds online guessing; offline, 80 bits of code outweigh any work factor, so
// the cost is kept low because every recovery-code attempt hashes each unused code.
const SCRYPT_OPTIONS = { N: 1024, r: 8, p: 1, maxmem: 16 * 1024 * 1024 };

const NORMALIZED = /^[0-9a-hjkmnp-tv-z]{16}$/;

export interface HashedRecoveryCode {
	salt: string;
	hash: string;
}

export function generateRecoveryCode(random: RandomReader): string {
	const raw = encodeCrockford(random(CODE_BYTES));
	return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}-${raw.slice(12, 16)}`;
}

/**
 * The canonical form that is hashed, or null if the input is not a recovery code. Case is folded in ASCII only:
 * a non-ASCII character anywhere (U+212A KELVIN SIGN for "k", which toLowerCase turns into "k") makes it no code.
 */
export function normalizeRecoveryCode(input: string): string | null {
	const normalized = asciiLowerCase(input.replace(/-/g, ""));
	return normalized !== null && NORMALIZED.test(normalized) ? normalized : null;
}

function scryptHash(normalized: string, salt: Buffer): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		scrypt(normalized, salt, HASH_BYTES, SCRYPT_OPTIONS, (error, key) => (error ? reject(error) : resolve(key)));
	});
}

export async function hashRecoveryCode(code: string, random: RandomReader): Promise<HashedRecoveryCode> {
	const normalized = normalizeRecoveryCode(code);
	if (normalized === null) throw new TypeError("not a recovery code");
	const salt = Buffer.from(random(SALT_BYTES));
	const hash = await scryptHash(normalized, salt);
	return { salt: salt.toString("base64url"), hash: hash.toString("base64url") };
}

/**
 * Returns the indexes of the stored hashes that match. Every stored hash is
 * computed and compared (no early return), so timing says nothing about which
 * code, if any, matched.
 */
export async function findMatchingRecoveryCodes(normalized: string, stored: readonly HashedRecoveryCode[]): Promise<number[]> {
	const hashes = await Promise.all(stored.map((entry) => scryptHash(normalized, Buffer.from(entry.salt, "base64url"))));
	const matches: number[] = [];
	hashes.forEach((hash, index) => {
		if (constantTimeEqual(hash, Buffer.from(stored[index]!.hash, "base64url"))) matches.push(index);
	});
	return matches;
}
