import type { HashAlgorithm } from "../../core/hotp.js";
import type { FactorKind } from "../factor-kind.js";
import { sealedOTPSecret } from "../totp/provisioning.js";
import { hotpProvisioning, type HOTPProvisioning } from "./provisioning.js";
import { hotpResync } from "./resync.js";

export interface EnrollHOTPInput {
	label?: string;
	issuer?: string;
	algorithm?: HashAlgorithm;
	digits?: number;
	/** The counter of the token's next code (RFC 4226 §5.2); default 0. */
	counter?: number;
	secret?: string;
}

/**
 * An HOTP factor (RFC 4226), enrolled as TOTP is: the same secret rules (R-OTP-4), the tenant's TOTP algorithm and
 * digits as defaults. The row's last_used_step is the last accepted counter, so it starts at counter - 1; period
 * stays null. A generated secret is shown once with its otpauth URI and QR code; an imported one is never echoed
 * back (the caller holds it already, and each copy is one more place it can leak from, R-LC-7). Confirmed with a
 * code from it; resynchronized with two consecutive codes (factors/hotp/resync.ts).
 */
export const hotpFactor = {
	type: "hotp",
	confirmation: "code",
	resync: hotpResync,
	async enroll(env, input) {
		const algorithm = input.algorithm ?? env.settings.totp.algorithm;
		const digits = input.digits ?? env.settings.totp.digits;
		const counter = input.counter ?? 0;
		const { secret, envelope } = sealedOTPSecret(env, algorithm, input.secret);
		const label = input.label ?? env.userId;
		const hotp =
			input.secret === undefined ? await hotpProvisioning({ secret, issuer: input.issuer ?? env.settings.issuer, label, algorithm, digits, counter }) : undefined;
		secret.fill(0);
		return {
			columns: {
				label,
				secret_envelope: envelope,
				algorithm,
				digits,
				period: null,
				last_used_step: counter - 1,
				expires_at: env.now + env.settings.pending_factor_ttl_seconds * 1000,
			},
			answer: hotp === undefined ? {} : { hotp },
		};
	},
} satisfies FactorKind<EnrollHOTPInput, { hotp?: HOTPProvisioning }>;
