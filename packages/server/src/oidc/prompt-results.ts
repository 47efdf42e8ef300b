import type { ServiceDeps } from "../services/deps.js";
import { hashId } from "./adapter.js";

/**
 * What one prompt ended with, kept per grant (issue 15): the step-up assertion the proof produced (for the token
 * response's twofold_assertion), its jti and expiry (so a code used twice can revoke it), the bound action's hash
 * (an id_token claim). Stored beside the provider's artefacts, under a model of its own that revoking a grant does
 * not delete: the revocation needs it.
 */
export interface PromptResult {
	userId: string;
	clientId: string;
	assertion?: string;
	jti?: string;
	/** The assertion's exp, seconds. */
	exp?: number;
	actionHash?: string;
}

const MODEL = "TwofoldResult";
/** Long enough for the code (60 s) and the assertion it carries (at most 15 minutes). */
const RESULT_TTL_MS = 16 * 60 * 1000;

export function promptResults(deps: ServiceDeps) {
	const payloads = () => deps.store.oidcPayloads;
	return {
		async save(tenantId: string, grantId: string, result: PromptResult): Promise<void> {
			await payloads().upsert({
				tenant_id: tenantId,
				model: MODEL,
				id_hash: hashId(MODEL, grantId),
				grant_id: null,
				uid_hash: null,
				payload: JSON.stringify(result),
				expires_at: deps.clock().getTime() + RESULT_TTL_MS,
				consumed_at: null,
			});
		},
		async find(tenantId: string, grantId: string): Promise<PromptResult | undefined> {
			const row = await payloads().find(tenantId, MODEL, hashId(MODEL, grantId), deps.clock().getTime());
			return row === undefined ? undefined : (JSON.parse(row.payload) as PromptResult);
		},
		/**
		 * A code was used a second time: "revoke what the first issued" (RFC 6749 §4.1.2) includes the assertion the
		 * first redemption returned, so its jti is recorded as redeemed and redemption and the SDK's single-use check refuse it.
		 */
		async revoke(tenantId: string, grantId: string): Promise<void> {
			const result = await this.find(tenantId, grantId);
			if (result?.jti === undefined || result.exp === undefined) return;
			await deps.store.redeemedAssertions.redeem({
				jti: result.jti,
				tenant_id: tenantId,
				user_id: result.userId,
				expires_at: result.exp * 1000,
				redeemed_at: deps.clock().getTime(),
			});
		},
	};
}
