import { decodeBase32, encodeBase32 } from "../../core/base32.js";
import type { HashAlgorithm } from "../../core/hotp.js";
import { createTOTPKeyURI } from "../../core/key-uri.js";
import type { RandomReader } from "../../core/random.js";
import { fieldError } from "../../contract/service-error.js";
import type { EnrollEnv } from "../factor-kind.js";
import { sealFactorSecret } from "../factor-secret.js";
import { renderQR } from "../qr-render.js";

/**
 * The shared secret of a code factor (TOTP, and HOTP which uses the same rules) and what the enrolling user sees
 * once. No storage here; services persist what this returns.
 */

/** RFC 6238 §5.1: keys SHOULD be the HMAC output length (R-OTP-4). */
const GENERATED_SECRET_BYTES: Record<HashAlgorithm, number> = { SHA1: 20, SHA256: 32, SHA512: 64 };
/** RFC 4226 §4 R6: the shared secret MUST be at least 128 bits (R-OTP-4, V-16). */
const MIN_IMPORTED_SECRET_BYTES = 16;

/** A fresh secret from the CSPRNG, or the imported one; null when an import is not acceptable. */
export function totpSecret(algorithm: HashAlgorithm, random: RandomReader, imported?: string): Uint8Array | null {
	if (imported === undefined) return random(GENERATED_SECRET_BYTES[algorithm]);
	const decoded = decodeBase32(imported);
	return decoded === null || decoded.byteLength < MIN_IMPORTED_SECRET_BYTES ? null : decoded;
}

/**
 * The factor's secret for an enrollment, generated or imported (R-OTP-4), sealed under the new factor's row
 * (R-ST-1, R-ST-2). The caller zeroes `secret` once it has shown what it must.
 */
export function sealedOTPSecret(env: EnrollEnv, algorithm: HashAlgorithm, imported: string | undefined): { secret: Uint8Array; envelope: string } {
	const secret = totpSecret(algorithm, env.random, imported);
	if (secret === null) throw fieldError("invalid_secret", "/secret", "must be base32 (RFC 4648) that decodes to at least 16 bytes");
	return { secret, envelope: sealFactorSecret(env.keyring, env.random, { tenant_id: env.tenantId, user_id: env.userId, id: env.factorId }, secret) };
}

export interface TOTPProvisioning {
	secret: string;
	uri: string;
	qr_svg: string;
	qr_png: string;
}

/**
 * The otpauth URI and its QR code, rendered in-process (the secret never goes to a third party, V-13)
 * and on a worker thread, so enrollments do not hold up other requests (issue 12 finding 8).
 */
export async function totpProvisioning(options: {
	secret: Uint8Array;
	issuer: string;
	label: string;
	algorithm: HashAlgorithm;
	digits: number;
	periodInSeconds: number;
}): Promise<TOTPProvisioning> {
	const { issuer, label: accountName, algorithm, digits, periodInSeconds } = options;
	return otpProvisioning(options.secret, (secretBase32) => createTOTPKeyURI({ issuer, accountName, secretBase32, algorithm, digits, periodInSeconds }));
}

/** The secret in base32, its otpauth URI (built by the kind) and the URI's QR code: what a code factor shows once. */
export async function otpProvisioning(secret: Uint8Array, uriFor: (secretBase32: string) => string): Promise<TOTPProvisioning> {
	const secretBase32 = encodeBase32(secret);
	const uri = uriFor(secretBase32);
	const { svg, png } = await renderQR(uri);
	return { secret: secretBase32, uri, qr_svg: svg, qr_png: png };
}
