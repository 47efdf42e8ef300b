import { TwofoldError } from "./twofold-error.js";

/**
 * Why the prompt's flow (prompt.ts) stopped. Two of them carry the OAuth error the provider sent, in `code`:
 * `authorization_error` (returned to the redirect URI: access_denied when the user cancelled or the tenant's policy
 * denied, login_required, …) and `endpoint_error` (the PAR or token endpoint refused: invalid_grant for a code used
 * twice or a wrong verifier, invalid_client, …). Every other reason is a check of the SDK's own and is also its `code`.
 */
export type PromptFailure =
	/** The discovery document could not be read, or lacks an endpoint the flow needs. */
	| "discovery_failed"
	/** The discovery document's `issuer`, or the callback's RFC 9207 `iss`, is not the configured issuer (mix-up). */
	| "issuer_mismatch"
	/** The callback's `state` is not the one this session started with (CSRF, or another session's answer). */
	| "state_mismatch"
	/** The provider answered the redirect URI with an OAuth error; `code` is that error. */
	| "authorization_error"
	/** The PAR or token endpoint refused; `code` is its OAuth error, `status` its HTTP status. */
	| "endpoint_error"
	/** The callback or an endpoint's answer lacks what it must carry (no code, no id_token, not JSON). */
	| "invalid_response"
	/** The id_token does not verify: signature, algorithm, key, iss, aud, azp, exp, or a claim missing or mistyped. */
	| "invalid_id_token"
	/** The id_token's nonce is not the one this session started with (a replayed token). */
	| "nonce_mismatch"
	/** The id_token's sub is not the user the prompt was started for. */
	| "wrong_user"
	/** The id_token approves another action than the one passed to start, or one when none was passed, or none. */
	| "action_mismatch"
	/** The id_token's acr is not one of those accepted (acrValues, or by default every second factor but email). */
	| "insufficient_acr";

/** An error of the prompt's flow. A TwofoldError: `status` is the HTTP status of the answer it came from, 0 for the SDK's own checks and redirect errors. */
export class PromptError extends TwofoldError {
	override readonly name = "PromptError";
	constructor(
		readonly reason: PromptFailure,
		/** The OAuth error for authorization_error and endpoint_error; the reason otherwise. */
		code: string,
		message: string,
		status = 0,
	) {
		super(status, code, message);
	}
}
