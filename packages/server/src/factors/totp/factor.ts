import type { HashAlgorithm } from "../../core/hotp.js";
import { fieldError } from "../../contract/service-error.js";
import { sealFactorSecret } from "../factor-secret.js";
import type { FactorKind } from "../factor-kind.js";
import { totpProvisioning, totpSecret, type TOTPProvisioning } from "./provisioning.js";

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
		const secret = totpSecret(algorithm, env.random, input.secret);
		if (secret === null) throw fieldError("invalid_secret", "/secret", "must be base32 (RFC 4648) that decodes to at least 16 bytes");
		const label = input.label ?? env.userId;
		const row = { tenant_id: env.tenantId, user_id: env.userId, id: env.factorId };
		const secretEnvelope = sealFactorSecret(env.keyring, env.random, row, secret);
		const totp = await totpProvisioning({ secret, issuer: input.issuer ?? env.settings.issuer, label, algorithm, digits, periodInSeconds: period });
		secret.fill(0);
		return {
			columns: {
				label,
				secret_envelope: secretEnvelope,
				algorithm,
				digits,
				period,
				last_used_step: -1,
				expires_at: env.now + env.settings.pending_factor_ttl_seconds * 1000,
			},
			answer: { totp },
		};
	},
} as const satisfies FactorKind<EnrollTOTPInput, { totp: TOTPProvisioning }>;
