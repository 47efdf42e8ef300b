import type { CeremonyRefusal, CeremonyRefusalReason } from "../factors/webauthn/ceremony-refusal.js";
import type { ServiceDeps } from "./deps.js";

/** Refusals an operator can act on (the tenant's rp_id or origins, or a page embedding the ceremony): warn; the rest are a user's or an attacker's, info. */
const WARN: ReadonlySet<CeremonyRefusalReason> = new Set(["origin_mismatch", "rp_id_mismatch", "cross_origin"]);

/**
 * The client learns only that its response was refused (a counted attempt, V-15); the log says why (issue 14), with
 * the tenant and user ids and nothing of the credential, the challenge or the response (R-ST-4).
 */
export function logCeremonyRefusal(deps: Pick<ServiceDeps, "log">, tenantId: string, userId: string, ceremony: "registration" | "authentication", refused: CeremonyRefusal): void {
	const fields = { tenant_id: tenantId, user_id: userId, ceremony, reason: refused.reason, ...(refused.detail === undefined ? {} : { detail: refused.detail }) };
	if (WARN.has(refused.reason)) deps.log?.warn(fields, "webauthn response refused");
	else deps.log?.info(fields, "webauthn response refused");
}
