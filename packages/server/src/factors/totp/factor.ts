import type { HashAlgorithm } from "../../core/hotp.js";
import type { FactorKind } from "../factor-kind.js";
import { sealedOTPSecret, totpProvisioning, type TOTPProvisioning } from "./provisioning.js";

export interface EnrollTOTPInput {
	label?: string;
	issuer?: string;
	algorithm?: HashAlgorithm;
	digits?: number;
	period?: number;
	secret?: string;
}

/** A TOTP factor: a sealed secret (R-ST-1, R-ST-2) and its parameters; confirmed with a current code from it (V-1). */
export const totpFactor = {
	type: "totp",
	confirmation: "code",
	async enroll(env, input) {
		const defaults = env.settings.totp;
		const algorithm = input.algorithm ?? defaults.algorithm;
		const digits = input.digits ?? defaults.digits;
		const period = input.period ?? defaults.period;
		const { secret, envelope } = sealedOTPSecret(env, algorithm, input.secret);
		const label = input.label ?? env.userId;
		const totp = await totpProvisioning({ secret, issuer: input.issuer ?? env.settings.issuer, label, algorithm, digits, periodInSeconds: period });
		secret.fill(0);
		return {
			columns: {
				label,
				secret_envelope: envelope,
				algorithm,
				digits,
				period,
				last_used_step: -1,
				expires_at: env.now + env.settings.pending_factor_ttl_seconds * 1000,
			},
			answer: { totp },
		};
	},
} satisfies FactorKind<EnrollTOTPInput, { totp: TOTPProvisioning }>;
