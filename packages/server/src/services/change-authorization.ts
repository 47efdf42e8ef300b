import type { ProofInput } from "../factors/proof-kind.js";
import { fieldError, ServiceError } from "../contract/service-error.js";
import type { TenantContext } from "./tenant-context.js";

/**
 * How a factor change is authorized (R-LC-4, V-8, V-19): by a current code
 * from the user, or by an admin-scope key that states a reason (audited).
 * Nothing else removes or replaces a user's factors.
 */
export interface ChangeAuthorization extends ProofInput {
	reason?: string;
}

/** The admin path: checks scope and reason, returns the reason to audit. */
export function requireAdminReason(ctx: TenantContext, authorization: ChangeAuthorization): string {
	const reason = authorization.reason?.trim();
	if (reason === undefined || reason.length === 0) {
		throw fieldError("proof_required", "/code", "is required: a proof (code, challenge_id with credential, or a step-up assertion), or with an admin key a reason");
	}
	if (ctx.scope !== "admin") throw new ServiceError("forbidden");
	return reason;
}
