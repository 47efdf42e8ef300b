import type { HashAlgorithm } from "../../core/hotp.js";
import { generateId } from "../../core/id.js";
import type { ServiceDeps } from "../../services/deps.js";
import { sealFactorSecret } from "../../services/factor-secret.js";
import { insertPendingFactor, prepareBinding, type PublicFactor, publicFactor } from "../../services/factors.js";
import type { ProofInput } from "../../services/proofs.js";
import { fieldError } from "../../services/service-error.js";
import type { TenantContext } from "../../services/tenant-context.js";
import type { FactorTable } from "../../store/tables.js";
import { totpSecret } from "../totp.js";
import { hotpProvisioning, type HOTPProvisioning } from "./provisioning.js";

export interface EnrollHOTPInput extends ProofInput {
	label?: string;
	issuer?: string;
	algorithm?: HashAlgorithm;
	digits?: number;
	/** The counter of the token's next code (RFC 4226 §5.2); default 0. */
	counter?: number;
	secret?: string;
}

/**
 * Starts a pending HOTP factor (RFC 4226), as enrollTOTP does for TOTP: the same secret rules, the same binding
 * proof (R-LC-1), the tenant's TOTP algorithm and digits as defaults. The row's last_used_step is the last accepted
 * counter, so it starts at counter - 1; period stays null. A generated secret is shown once with its otpauth URI
 * and QR code; an imported one is never echoed back (the caller holds it already, and each copy is one more place
 * it can leak from, R-LC-7).
 */
export async function enrollHOTP(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	input: EnrollHOTPInput,
): Promise<{ factor: PublicFactor; hotp?: HOTPProvisioning }> {
	const binding = await prepareBinding(deps, ctx, userId, input);
	const algorithm = input.algorithm ?? ctx.settings.totp.algorithm;
	const digits = input.digits ?? ctx.settings.totp.digits;
	const counter = input.counter ?? 0;
	const secret = totpSecret(algorithm, deps.random, input.secret);
	if (secret === null) throw fieldError("invalid_secret", "/secret", "must be base32 (RFC 4648) that decodes to at least 16 bytes");

	const now = deps.clock().getTime();
	const row: FactorTable = {
		id: generateId("fac", deps.random),
		tenant_id: ctx.tenantId,
		user_id: userId,
		type: "hotp",
		status: "pending",
		label: input.label ?? userId,
		secret_envelope: null,
		algorithm,
		digits,
		period: null,
		last_used_step: counter - 1,
		created_at: now,
		expires_at: now + ctx.settings.pending_factor_ttl_seconds * 1000,
		activated_at: null,
		last_used_at: null,
		deleted_at: null,
	};
	row.secret_envelope = sealFactorSecret(deps.keyring, deps.random, row, secret);
	const hotp =
		input.secret === undefined
			? await hotpProvisioning({ secret, issuer: input.issuer ?? ctx.settings.issuer, label: row.label, algorithm, digits, counter })
			: undefined;
	secret.fill(0);
	await insertPendingFactor(deps, ctx, userId, binding, row);
	return hotp === undefined ? { factor: publicFactor(row) } : { factor: publicFactor(row), hotp };
}
