import { decodeBase32, encodeBase32 } from "../../core/base32.js";
import type { HashAlgorithm } from "../../core/hotp.js";
import { createTOTPKeyURI } from "../../core/key-uri.js";
import type { RandomReader } from "../../core/random.js";
import { renderQR } from "../qr-render.js";

/**
 * The TOTP factor: secret material and what the enrolling user sees once.
 * No storage here; services persist what this returns.
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
	const secret = encodeBase32(options.secret);
	const uri = createTOTPKeyURI({
		issuer: options.issuer,
		accountName: options.label,
		secretBase32: secret,
		algorithm: options.algorithm,
		digits: options.digits,
		periodInSeconds: options.periodInSeconds,
	});
	const { svg, png } = await renderQR(uri);
	return { secret, uri, qr_svg: svg, qr_png: png };
}
