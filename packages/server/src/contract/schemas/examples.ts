/**
 * Examples the API reference (/docs) shows for each request body, one per
 * variant, as OpenAPI media-type examples (x-examples, which @fastify/swagger
 * moves onto the request body). Without them swagger-ui would invent values
 * from the schema, regex-generated strings that look like nothing a client
 * sends (issue 13). Values are realistic in shape and obviously not real: no
 * secret, key or live code appears here.
 */
export interface NamedExample {
	summary: string;
	value: unknown;
}

export type Examples = Record<string, NamedExample>;

/** What the browser helper returns from navigator.credentials.get(), abbreviated (AuthenticationResponseJSON). */
const AUTHENTICATION_RESPONSE = {
	id: "q1Fq0hM9aE0RzvDAb8kqnQ",
	rawId: "q1Fq0hM9aE0RzvDAb8kqnQ",
	type: "public-key",
	response: {
		clientDataJSON: "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoi…",
		authenticatorData: "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAABQ",
		signature: "MEUCIQDk…",
		userHandle: "dS0xMjM",
	},
	clientExtensionResults: {},
	authenticatorAttachment: "cross-platform",
};

/** What the browser helper returns from navigator.credentials.create(), abbreviated (RegistrationResponseJSON). */
const REGISTRATION_RESPONSE = {
	id: "q1Fq0hM9aE0RzvDAb8kqnQ",
	rawId: "q1Fq0hM9aE0RzvDAb8kqnQ",
	type: "public-key",
	response: {
		clientDataJSON: "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoi…",
		attestationObject: "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVjF…",
		transports: ["usb"],
	},
	clientExtensionResults: {},
	authenticatorAttachment: "cross-platform",
};

const CHALLENGE_ID = "chl_01jd8r6k9m2x4v7b3n5q8t1w0y";
const ASSERTION = "eyJhbGciOiJFZERTQSIsImtpZCI6InNpZ18wMWpkOHI2azltMng0djdiM241cTh0MXcweSIsInR5cCI6InR3b2ZvbGQtYXNzZXJ0aW9uK2p3dCJ9.eyJzdWIiOiJ1LTEyMyJ9.c2lnbmF0dXJl";

export const VERIFY_EXAMPLES: Examples = {
	totp: { summary: "A TOTP code from the user's authenticator app", value: { code: "123456" } },
	recovery_code: { summary: "A recovery code (one use each)", value: { code: "7k3m-q9xd-2bft-w8hc" } },
	webauthn: {
		summary: "A WebAuthn assertion answering POST /challenges",
		value: { challenge_id: CHALLENGE_ID, credential: AUTHENTICATION_RESPONSE },
	},
	email: { summary: "An email code (low assurance; tenant opt-in)", value: { code: "482913", challenge_id: CHALLENGE_ID } },
	step_up: {
		summary: "A TOTP code approving one operation, after a password (the assertion is bound to it)",
		value: { code: "123456", action: { method: "POST", path: "/account/email" }, first_factor: true },
	},
};

export const ENROLL_EXAMPLES: Examples = {
	totp: { summary: "A TOTP factor (the user's first)", value: { type: "totp", label: "Work phone" } },
	webauthn: { summary: "A security key or passkey (the user's first)", value: { type: "webauthn", label: "YubiKey 5" } },
	totp_with_proof: {
		summary: "Another factor, proved with a current code from an active one (R-LC-1)",
		value: { type: "totp", label: "Backup phone", code: "123456" },
	},
	webauthn_with_assertion: {
		summary: "Another factor, proved with a fresh step-up assertion",
		value: { type: "webauthn", label: "Laptop passkey", assertion: ASSERTION },
	},
	hotp: { summary: "An HOTP (counter-based) factor, e.g. a hardware token's app profile", value: { type: "hotp", label: "Key fob" } },
	hotp_import: {
		// A placeholder, like totp_import: a published seed would enroll a factor anyone can compute (RFC 4226 §4 R6).
		summary: "Import an HOTP token's secret (base32, at least 16 bytes) and its current counter: replace the placeholder",
		value: { type: "hotp", label: "Hardware token", secret: "<the base32 secret you hold, at least 16 bytes>", counter: 42 },
	},
	totp_import: {
		// A placeholder that fails validation (invalid_secret): any real-looking seed here would be public, and "Try it
		// out" would enroll a factor whose codes anyone can compute (RFC 6238 §3, a unique secret per prover; R-OTP-5).
		summary: "Import an existing TOTP secret (base32, at least 16 bytes): replace the placeholder with the secret you hold",
		value: { type: "totp", label: "Migrated", secret: "<the base32 secret you hold, at least 16 bytes>", digits: 6, period: 30, algorithm: "SHA1" },
	},
};

export const CONFIRM_EXAMPLES: Examples = {
	totp: { summary: "TOTP: the current code from the app that scanned the QR code", value: { code: "123456" } },
	webauthn: { summary: "WebAuthn: the registration response from the browser helper", value: { credential: REGISTRATION_RESPONSE } },
};

export const RESYNC_EXAMPLES: Examples = {
	hotp: { summary: "Two consecutive codes from the HOTP token, in the order it showed them", value: { codes: ["359152", "969429"] } },
};

export const CHANGE_EXAMPLES: Examples = {
	totp: { summary: "A current code from a factor that stays", value: { code: "123456" } },
	webauthn: { summary: "A WebAuthn assertion", value: { challenge_id: CHALLENGE_ID, credential: AUTHENTICATION_RESPONSE } },
	assertion: { summary: "A step-up assertion from a verify in the last 5 minutes", value: { assertion: ASSERTION } },
	admin: { summary: "Admin key: no proof, a reason for the audit log", value: { reason: "Lost phone; identity checked by support ticket 4711" } },
};

export const CHALLENGE_EXAMPLES: Examples = {
	webauthn: { summary: "Start a WebAuthn authentication", value: { type: "webauthn" } },
	email: { summary: "Send an email code", value: { type: "email", to: "user@example.com" } },
};

export const RESET_EXAMPLES: Examples = {
	reset: { summary: "Remove every factor and recovery code", value: { reason: "Lost all devices; identity checked in person" } },
	with_notice: { summary: "And tell the user", value: { reason: "Lost all devices; identity checked in person", notify_email: "user@example.com" } },
};

export const REDEEM_EXAMPLES: Examples = {
	redeem: { summary: "Spend an action-bound assertion once", value: { assertion: ASSERTION } },
};

export const TENANT_PATCH_EXAMPLES: Examples = {
	webauthn: {
		summary: "Turn on WebAuthn for a site",
		value: { webauthn: { rp_id: "example.com", rp_name: "Example", origins: ["https://example.com", "https://app.example.com"] } },
	},
	totp: { summary: "TOTP defaults for new factors", value: { issuer: "Example", totp: { digits: 6, period: 30, window: 1 } } },
	hotp: { summary: "HOTP counter windows (RFC 4226 §7.4)", value: { hotp: { look_ahead: 10, resync_window: 100 } } },
	email: { summary: "Allow email codes", value: { email: { enabled: true, subject: "Your Example code", text: "Your code is {{code}}. It expires in 10 minutes." } } },
};

export const CREATE_WEBHOOK_EXAMPLES: Examples = {
	all: { summary: "Every event", value: { url: "https://app.example.com/twofold-hooks", events: ["*"] } },
	some: { summary: "Chosen events (docs/events.md)", value: { url: "https://app.example.com/twofold-hooks", events: ["factor.activated", "user.locked"] } },
};

export const UPDATE_WEBHOOK_EXAMPLES: Examples = {
	disable: { summary: "Pause deliveries", value: { enabled: false } },
	events: { summary: "Change the events", value: { events: ["*"] } },
};

export const CREATE_CLIENT_EXAMPLES: Examples = {
	secret: { summary: "A web application with a client secret (RS256 id_tokens)", value: { name: "Example Shop", redirect_uris: ["https://shop.example.com/auth/twofold/callback"] } },
	eddsa: {
		summary: "client_secret_post, EdDSA id_tokens, a post-logout URI",
		value: {
			name: "Example Shop",
			redirect_uris: ["https://shop.example.com/auth/twofold/callback"],
			post_logout_redirect_uris: ["https://shop.example.com/"],
			token_endpoint_auth_method: "client_secret_post",
			id_token_signed_response_alg: "EdDSA",
		},
	},
	keys: {
		summary: "private_key_jwt with the public key inline",
		value: {
			name: "Example Shop",
			redirect_uris: ["https://shop.example.com/auth/twofold/callback"],
			token_endpoint_auth_method: "private_key_jwt",
			jwks: { keys: [{ kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", kid: "shop-1" }] },
		},
	},
};

export const UPDATE_CLIENT_EXAMPLES: Examples = {
	redirects: { summary: "Replace the redirect URIs", value: { redirect_uris: ["https://shop.example.com/auth/twofold/callback", "https://staging.shop.example.com/auth/twofold/callback"] } },
	rename: { summary: "Rename", value: { name: "Example Shop (EU)" } },
};
