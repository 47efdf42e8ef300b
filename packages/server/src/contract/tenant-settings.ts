import type { Static } from "@sinclair/typebox";
import type { TenantSettings as TenantSettingsSchema } from "./schemas/tenant.js";

/**
 * Per-tenant policy, stored as JSON on the tenant row and shown as it is by GET/PATCH /v1/tenant, so its type is
 * the contract's (contract/schemas/tenant.ts). Wire names are snake_case and stable.
 */
export type TenantSettings = Static<typeof TenantSettingsSchema>;

/**
 * Email one-time codes (issue 5): low assurance (R-EM-1), off until the tenant turns them on. The
 * templates take {{code}}, {{tenant}} and {{minutes}}; the HTML one gets them escaped. store_address: keep the
 * address of the last code on the user, for reset notices; off, the address is used once and dropped.
 */
export type EmailSettings = TenantSettings["email"];

/** Step-up assertions (R-AS-3): short-lived by default; the PATCH schema caps the lifetime. */
export type AssertionSettings = TenantSettings["assertions"];

/**
 * The relying party for WebAuthn factors. rp_id, rp_name and origins must be set before WebAuthn enrollment.
 * allow_synced false: only device-bound credentials (no synced passkeys, backup-eligible ones are refused).
 */
export type WebAuthnSettings = TenantSettings["webauthn"];

/**
 * What the hosted prompt shows of the tenant (issue 15). has_logo is read-only: Twofold sets it in the transaction
 * that stores or deletes the logo (services/logos.ts), and no PATCH can set it.
 */
export type BrandingSettings = TenantSettings["branding"];

/**
 * How the hosted prompt behaves. no_factor_policy "allow" lets a user without a factor through with acr
 * urn:twofold:acr:none and no assertion: a weakening, documented as such.
 */
export type PromptSettings = TenantSettings["prompt"];

export type TenantSettingsPatch = {
	webauthn?: Partial<WebAuthnSettings>;
	branding?: Partial<Omit<BrandingSettings, "has_logo">>;
	prompt?: Partial<PromptSettings>;
	issuer?: string;
	totp?: Partial<TenantSettings["totp"]>;
	hotp?: Partial<TenantSettings["hotp"]>;
	attempts?: Partial<TenantSettings["attempts"]>;
	pending_factor_ttl_seconds?: number;
	assertions?: Partial<AssertionSettings>;
	email?: Partial<EmailSettings>;
	imports?: Partial<ImportSettings>;
};

/**
 * Bulk import (issue 17, R-OTP-4 as amended): weak_secrets "accept" creates imported factors with a secret of 80-127
 * bits, flagged weak_secret; "refuse" refuses every imported secret under 128 bits. Never anything under 80 bits.
 */
export type ImportSettings = TenantSettings["imports"];

/**
 * Defaults. window 1 accepts steps T-1..T+1 (RFC 6238 §5.2 allows one step of
 * drift) and single use (R-OTP-1) closes the replay gap. lock_after 100 is
 * NIST 63B-4 §3.2.2's upper bound; tenants may only go lower (bounds live in
 * the PATCH schema).
 */
export function defaultTenantSettings(issuer: string): TenantSettings {
	return {
		issuer,
		totp: { algorithm: "SHA1", digits: 6, period: 30, window: 1 },
		// RFC 4226 §7.4: a look-ahead window s and a larger one for resynchronization with two codes.
		hotp: { look_ahead: 10, resync_window: 100 },
		attempts: { throttle_after: 5, lock_after: 100 },
		pending_factor_ttl_seconds: 900,
		// R-WA-5: user verification required unless the tenant relaxes it.
		webauthn: { rp_id: null, rp_name: null, origins: [], user_verification: "required", attestation: "none", allow_synced: true },
		assertions: { ttl_seconds: 300 },
		branding: { display_name: null, primary_color: null, has_logo: false, default_locale: "en" },
		// enroll: a user with no factor is sent to enrollment, so the prompt never passes someone without a proof by default.
		prompt: { no_factor_policy: "enroll", support_text: null, support_url: null, recovery_requests: true },
		// Accepting keeps a team's older 80-bit tokens working after the move; a tenant may insist on 128 bits.
		imports: { weak_secrets: "accept" },
		email: {
			enabled: false,
			store_address: false,
			subject: "Your {{tenant}} verification code",
			text: "Your {{tenant}} verification code is {{code}}. It expires in {{minutes}} minutes.\n\nIf you did not ask for it, ignore this message: without your password it is of no use.",
			html: "<p>Your {{tenant}} verification code is <strong>{{code}}</strong>. It expires in {{minutes}} minutes.</p><p>If you did not ask for it, ignore this message.</p>",
		},
	};
}

export function parseTenantSettings(json: string, fallbackIssuer: string): TenantSettings {
	return mergeTenantSettings(defaultTenantSettings(fallbackIssuer), JSON.parse(json) as TenantSettingsPatch);
}

export function mergeTenantSettings(base: TenantSettings, patch: TenantSettingsPatch): TenantSettings {
	return {
		issuer: patch.issuer ?? base.issuer,
		totp: { ...base.totp, ...patch.totp },
		hotp: { ...base.hotp, ...patch.hotp },
		attempts: { ...base.attempts, ...patch.attempts },
		pending_factor_ttl_seconds: patch.pending_factor_ttl_seconds ?? base.pending_factor_ttl_seconds,
		webauthn: { ...base.webauthn, ...patch.webauthn },
		assertions: { ...base.assertions, ...patch.assertions },
		email: { ...base.email, ...patch.email },
		// The stored JSON is parsed through here too, and carries has_logo; a PATCH never does (its schema refuses it,
		// and updateTenantSettings takes it from the stored row).
		branding: { ...base.branding, ...patch.branding },
		prompt: { ...base.prompt, ...patch.prompt },
		imports: { ...base.imports, ...patch.imports },
	};
}
