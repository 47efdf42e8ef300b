import { MAX_HOTP_LOOK_AHEAD, MAX_HOTP_RESYNC_WINDOW } from "../../core/hotp-window.js";
import { type TSchema, Type } from "@sinclair/typebox";
import { TENANT_PATCH_EXAMPLES } from "./examples.js";
import { CONTAINS_CODE_PLACEHOLDER, HEX_COLOR, HOST_NAME, NO_COLON_OR_CONTROL, NO_CONTROL, PRINTABLE_TEXT, TEXT_WITH_LINES } from "./patterns.js";

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Locale = Type.Union([Type.Literal("en"), Type.Literal("de")]);
const NoFactorPolicy = Type.Union([Type.Literal("enroll"), Type.Literal("deny"), Type.Literal("allow")]);

const Algorithm = Type.Union([Type.Literal("SHA1"), Type.Literal("SHA256"), Type.Literal("SHA512")]);

export const TenantSettings = Type.Object({
	issuer: Type.String(),
	totp: Type.Object({ algorithm: Algorithm, digits: Type.Integer(), period: Type.Integer(), window: Type.Integer() }),
	hotp: Type.Object({ look_ahead: Type.Integer(), resync_window: Type.Integer() }),
	attempts: Type.Object({ throttle_after: Type.Integer(), lock_after: Type.Integer() }),
	pending_factor_ttl_seconds: Type.Integer(),
	webauthn: Type.Object({
		rp_id: Type.Union([Type.String(), Type.Null()]),
		rp_name: Type.Union([Type.String(), Type.Null()]),
		origins: Type.Array(Type.String()),
		user_verification: Type.Union([Type.Literal("required"), Type.Literal("preferred")]),
		attestation: Type.Union([Type.Literal("none"), Type.Literal("direct")]),
		allow_synced: Type.Boolean(),
	}),
	assertions: Type.Object({ ttl_seconds: Type.Integer() }),
	email: Type.Object({ enabled: Type.Boolean(), store_address: Type.Boolean(), subject: Type.String(), text: Type.String(), html: Type.String() }),
	branding: Type.Object({
		display_name: Nullable(Type.String()),
		primary_color: Nullable(Type.String()),
		has_logo: Type.Boolean({ description: "Read-only: a logo is stored (PUT /v1/tenant/logo)." }),
		default_locale: Locale,
	}),
	prompt: Type.Object({
		no_factor_policy: NoFactorPolicy,
		support_text: Nullable(Type.String()),
		support_url: Nullable(Type.String()),
		recovery_requests: Type.Boolean(),
	}),
	imports: Type.Object({ weak_secrets: Type.Union([Type.Literal("accept"), Type.Literal("refuse")]) }),
});

export const PromptPasskeys = Type.Object(
	{ usable: Type.Boolean(), reason: Type.Optional(Type.String()) },
	{ description: "Whether the hosted prompt (on TWOFOLD_PUBLIC_URL) can run WebAuthn ceremonies with these webauthn settings; reason says what to change when not." },
);

export const Tenant = Type.Object(
	{ id: Type.String(), name: Type.String(), settings: TenantSettings, prompt_passkeys: PromptPasskeys },
	{ $id: "Tenant", description: "The calling tenant and its settings." },
);

/** Safe bounds: the window never exceeds ±1 step (R-OTP-2), the lock never comes later than 100 failures (R-OTP-6). */
export const TenantPatch = Type.Object(
	{
		issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: NO_COLON_OR_CONTROL.pattern })),
		totp: Type.Optional(
			Type.Object(
				{
					algorithm: Type.Optional(Algorithm),
					digits: Type.Optional(Type.Union([Type.Literal(6), Type.Literal(7), Type.Literal(8)])),
					period: Type.Optional(Type.Integer({ minimum: 15, maximum: 120 })),
					window: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
				},
				{ additionalProperties: false },
			),
		),
		// RFC 4226 §7.4: each counter of a window is one more code a guess can hit, so both are capped.
		hotp: Type.Optional(
			Type.Object(
				{
					look_ahead: Type.Optional(
						Type.Integer({ minimum: 0, maximum: MAX_HOTP_LOOK_AHEAD, description: "Verify accepts HOTP counters last+1 … last+1+look_ahead (default 10)." }),
					),
					resync_window: Type.Optional(
						Type.Integer({ minimum: 2, maximum: MAX_HOTP_RESYNC_WINDOW, description: "Resync looks for two consecutive codes within counters last+1 … last+resync_window (default 100)." }),
					),
				},
				{ additionalProperties: false },
			),
		),
		attempts: Type.Optional(
			Type.Object(
				{
					throttle_after: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
					lock_after: Type.Optional(Type.Integer({ minimum: 3, maximum: 100 })),
				},
				{ additionalProperties: false },
			),
		),
		pending_factor_ttl_seconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 3600 })),
		webauthn: Type.Optional(
			Type.Object(
				{
					rp_id: Type.Optional(Type.String({ minLength: 1, maxLength: 253, pattern: HOST_NAME.pattern })),
					rp_name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: NO_CONTROL.pattern })),
					origins: Type.Optional(Type.Array(Type.String({ maxLength: 300 }), { minItems: 1, maxItems: 20 })),
					user_verification: Type.Optional(Type.Union([Type.Literal("required"), Type.Literal("preferred")])),
					attestation: Type.Optional(Type.Union([Type.Literal("none"), Type.Literal("direct")])),
					allow_synced: Type.Optional(Type.Boolean()),
				},
				{ additionalProperties: false },
			),
		),
		assertions: Type.Optional(
			Type.Object(
				{
					// R-AS-3: minutes, not hours; MAX_ASSERTION_TTL_SECONDS also bounds how long a retired key stays published.
					ttl_seconds: Type.Optional(Type.Integer({ minimum: 30, maximum: 900 })),
				},
				{ additionalProperties: false },
			),
		),
		branding: Type.Optional(
			Type.Object(
				{
					display_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64, pattern: PRINTABLE_TEXT.pattern, description: "Shown at the top of the prompt; null: the tenant's name." }))),
					primary_color: Type.Optional(Nullable(Type.String({ pattern: HEX_COLOR.pattern, description: "The prompt's accent colour, #rrggbb." }))),
					default_locale: Type.Optional(Locale),
				},
				{ additionalProperties: false },
			),
		),
		prompt: Type.Optional(
			Type.Object(
				{
					no_factor_policy: Type.Optional(
						Type.Union([Type.Literal("enroll"), Type.Literal("deny"), Type.Literal("allow")], {
							description: "A verify for a user without an active factor: enroll (default), deny (access_denied), or allow (acr urn:twofold:acr:none, no assertion: weaker).",
						}),
					),
					support_text: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 500, pattern: TEXT_WITH_LINES.pattern }))),
					support_url: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 2048, description: "https, or http on a loopback host." }))),
					recovery_requests: Type.Optional(Type.Boolean()),
				},
				{ additionalProperties: false },
			),
		),
		// R-OTP-4 as amended (issue 17): imported secrets of 80-127 bits are accepted and flagged unless refused here.
		imports: Type.Optional(
			Type.Object(
				{
					weak_secrets: Type.Optional(
						Type.Union([Type.Literal("accept"), Type.Literal("refuse")], {
							description: "Imported secrets of 80-127 bits: accept (default; created and flagged weak_secret) or refuse (the record is invalid). Under 80 bits is always refused.",
						}),
					),
				},
				{ additionalProperties: false },
			),
		),
		email: Type.Optional(
			Type.Object(
				{
					enabled: Type.Optional(Type.Boolean()),
					store_address: Type.Optional(Type.Boolean()),
					subject: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_CONTROL.pattern })),
					// A template without the code would send nothing useful.
					text: Type.Optional(Type.String({ minLength: 1, maxLength: 5000, pattern: CONTAINS_CODE_PLACEHOLDER.pattern })),
					html: Type.Optional(Type.String({ minLength: 1, maxLength: 20000, pattern: CONTAINS_CODE_PLACEHOLDER.pattern })),
				},
				{ additionalProperties: false },
			),
		),
	},
	{ additionalProperties: false, description: "Only the settings given change.", "x-examples": TENANT_PATCH_EXAMPLES },
);
