import { encodeBase32 } from "../../core/base32.js";
import type { HashAlgorithm } from "../../core/hotp.js";
import { createHOTPKeyURI } from "../../core/key-uri.js";
import { renderQR } from "../qr-render.js";

export interface HOTPProvisioning {
	secret: string;
	uri: string;
	qr_svg: string;
	qr_png: string;
}

/**
 * What the enrolling user scans for a generated HOTP secret: the otpauth://hotp URI with the start counter, and its
 * QR code rendered in-process on a worker thread, as for TOTP (V-13, factors/totp/provisioning.ts). Secret material comes from
 * factors/totp/provisioning.ts's totpSecret: the same rules (RFC 4226 §4 R6, R-OTP-4) for a shared secret of either kind.
 */
export async function hotpProvisioning(options: {
	secret: Uint8Array;
	issuer: string;
	label: string;
	algorithm: HashAlgorithm;
	digits: number;
	counter: number;
}): Promise<HOTPProvisioning> {
	const secret = encodeBase32(options.secret);
	const uri = createHOTPKeyURI({
		issuer: options.issuer,
		accountName: options.label,
		secretBase32: secret,
		algorithm: options.algorithm,
		digits: options.digits,
		counter: options.counter,
	});
	const { svg, png } = await renderQR(uri);
	return { secret, uri, qr_svg: svg, qr_png: png };
}
