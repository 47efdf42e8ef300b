import type { IncomingMessage, ServerResponse } from "node:http";
import type { TenantContext } from "../services/tenant-context.js";

/**
 * The seam between the OpenID Connect machinery (oidc/, over oidc-provider) and the prompt's pages
 * (pages/ and http/routes/prompt*.ts), issue 15. The provider owns the protocol: PAR, PKCE, client
 * authentication, codes, tokens. The pages own what the user sees and do every proof through the same
 * services as the API. They meet only here.
 */

/** What the application asked for, read from the pushed (client-authenticated) authorization request. */
export interface PromptRequest {
	/** oidc-provider's interaction uid: the pages live at `${issuerPath}/interaction/${uid}`. */
	uid: string;
	tenantId: string;
	/** The login_hint: the application's opaque user id, already validated as a user id (1-128 printable ASCII). */
	userId: string;
	client: { id: string; name: string; hasLogo: boolean };
	/** Default "verify". */
	intent: "verify" | "enroll" | "manage";
	/** The RFC 9396 authorization_details entry of type twofold_action, when one was sent. */
	action: { action: Record<string, unknown>; description: string; hash: string } | null;
	/** acr_values as sent (space-separated list split), for the strength the proof must have. */
	acrValues: string[];
	/** ui_locales as sent, split; the pages pick the first they have, then Accept-Language, then the tenant default. */
	uiLocales: string[];
	/** The origin of the redirect URI the result returns to (for the pages' CSP form-action where needed). */
	redirectOrigin: string;
	/** The issuer URL of the tenant (`${TWOFOLD_PUBLIC_URL}/t/${tenantId}`) and its path, for links on the pages. */
	issuer: string;
	issuerPath: string;
	/** When the interaction expires (ms since epoch). */
	expiresAt: number;
}

/** How the interaction ends. */
export type PromptOutcome =
	/** A proof was verified through services.verifications.verify (or the confirmation of a first factor). */
	| {
			result: "verified";
			/** The method of the proof ("totp", "hotp", "webauthn", "recovery_code", "email"), the source of acr and amr. */
			method: string;
			/** The step-up assertion that verify returned (bound to request.action when there was one). */
			assertion: string;
	  }
	/** The user has no active factor and the tenant's no-factor policy is "allow": acr urn:twofold:acr:none, no amr, no assertion. */
	| { result: "no_factor_allowed" }
	/** The user cancelled, or policy denied: returned to the client as an OAuth error (access_denied). */
	| { result: "denied"; reason: "cancelled" | "policy" | "locked"; description: string };

export interface PromptInteractions {
	/**
	 * The interaction behind this request (oidc-provider's interaction cookie), with a TenantContext the pages pass to
	 * services (keyId "oidc:<client_id>", scope "default"). Throws a ServiceError (code "prompt_expired") when there is
	 * none or it expired.
	 */
	load(req: IncomingMessage, res: ServerResponse): Promise<{ request: PromptRequest; ctx: TenantContext }>;
	/**
	 * Ends the interaction: records prompt.completed or prompt.cancelled, then answers with the redirect back into the
	 * provider (303, written on `res` itself: a Fastify route calls reply.hijack() first). A "verified" outcome's
	 * assertion must be Twofold's, for this tenant and user, and carry request.action's hash exactly when there is an
	 * action (else ServiceError "invalid_assertion").
	 */
	finish(req: IncomingMessage, res: ServerResponse, outcome: PromptOutcome): Promise<void>;
}
