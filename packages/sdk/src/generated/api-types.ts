// Generated from Twofold's OpenAPI document by packages/sdk/scripts/generate-types.mjs (npm run generate:sdk-types).
// Do not edit: a test regenerates it from the server and fails on any difference.
export interface Operations {
	"GET /.well-known/jwks.json": {
		body: never;
		query: never;
		response: {
			"keys": Array<{
				"kty": "OKP";
				"crv": "Ed25519";
				"x": string;
				"kid": string;
				"alg": "EdDSA";
				"use": "sig";
			}>;
		};
	};
	"GET /healthz": {
		body: never;
		query: never;
		response: {
			"status": string;
		};
	};
	"GET /metrics": {
		body: never;
		query: never;
		response: string;
	};
	"GET /readyz": {
		body: never;
		query: never;
		response: {
			"status": string;
		};
	};
	"POST /v1/assertions/redeem": {
		body: {
			"assertion": string;
		};
		query: never;
		response: {
			"redeemed": true;
			"jti": string;
			"sub": string;
			"exp": string;
			"action_hash"?: string;
		};
	};
	"GET /v1/browser.js": {
		body: never;
		query: never;
		response: string;
	};
	"GET /v1/clients": {
		body: never;
		query: never;
		response: {
			"clients": Array<{
				"client_id": string;
				"name": string;
				"redirect_uris": Array<string>;
				"post_logout_redirect_uris": Array<string>;
				"token_endpoint_auth_method": "client_secret_basic" | "client_secret_post" | "private_key_jwt";
				"id_token_signed_response_alg": "RS256" | "EdDSA";
				"jwks"?: {
					"keys": Array<{ [key: string]: unknown }>;
				};
				"created_at": string;
				"updated_at": string;
			}>;
		};
	};
	"POST /v1/clients": {
		body: {
			"name": string;
			"redirect_uris": Array<string>;
			"post_logout_redirect_uris"?: Array<string>;
			"token_endpoint_auth_method"?: "client_secret_basic" | "client_secret_post" | "private_key_jwt";
			"id_token_signed_response_alg"?: "RS256" | "EdDSA";
			"jwks"?: {
				"keys": Array<{ [key: string]: unknown }>;
			};
			"jwks_uri"?: string;
		};
		query: never;
		response: {
			"client": {
				"client_id": string;
				"name": string;
				"redirect_uris": Array<string>;
				"post_logout_redirect_uris": Array<string>;
				"token_endpoint_auth_method": "client_secret_basic" | "client_secret_post" | "private_key_jwt";
				"id_token_signed_response_alg": "RS256" | "EdDSA";
				"jwks"?: {
					"keys": Array<{ [key: string]: unknown }>;
				};
				"created_at": string;
				"updated_at": string;
			};
			"client_secret"?: string;
		};
	};
	"DELETE /v1/clients/{client_id}": {
		body: never;
		query: never;
		response: void;
	};
	"GET /v1/clients/{client_id}": {
		body: never;
		query: never;
		response: {
			"client_id": string;
			"name": string;
			"redirect_uris": Array<string>;
			"post_logout_redirect_uris": Array<string>;
			"token_endpoint_auth_method": "client_secret_basic" | "client_secret_post" | "private_key_jwt";
			"id_token_signed_response_alg": "RS256" | "EdDSA";
			"jwks"?: {
				"keys": Array<{ [key: string]: unknown }>;
			};
			"created_at": string;
			"updated_at": string;
		};
	};
	"PATCH /v1/clients/{client_id}": {
		body: {
			"name"?: string;
			"redirect_uris"?: Array<string>;
			"post_logout_redirect_uris"?: Array<string>;
			"id_token_signed_response_alg"?: "RS256" | "EdDSA";
			"jwks"?: {
				"keys": Array<{ [key: string]: unknown }>;
			};
			"jwks_uri"?: string;
		};
		query: never;
		response: {
			"client_id": string;
			"name": string;
			"redirect_uris": Array<string>;
			"post_logout_redirect_uris": Array<string>;
			"token_endpoint_auth_method": "client_secret_basic" | "client_secret_post" | "private_key_jwt";
			"id_token_signed_response_alg": "RS256" | "EdDSA";
			"jwks"?: {
				"keys": Array<{ [key: string]: unknown }>;
			};
			"created_at": string;
			"updated_at": string;
		};
	};
	"DELETE /v1/clients/{client_id}/logo": {
		body: never;
		query: never;
		response: void;
	};
	"PUT /v1/clients/{client_id}/logo": {
		body: never;
		query: never;
		response: void;
	};
	"GET /v1/events": {
		body: never;
		query: {
			"user_id"?: string;
			"type"?: string;
			"limit"?: string;
			"cursor"?: string;
		};
		response: {
			"events": Array<{
				"id": string;
				"type": string;
				"user_id": string | null;
				"factor_id": string | null;
				"data": {
					[key: string]: unknown;
				};
				"created_at": string;
			}>;
			"next_cursor": string | null;
		};
	};
	"GET /v1/imports": {
		body: never;
		query: {
			"limit"?: string;
		};
		response: {
			"imports": Array<{
				"job_id": string | null;
				"status": "running" | "completed" | "failed" | "dry_run";
				"format": string;
				"counts": {
					"records": number;
					"users_created": number;
					"users_replaced": number;
					"factors_created": number;
					"skipped": number;
					"invalid": number;
					"weak_secret": number;
				};
				"entries": Array<{
					"outcome": "created" | "replaced" | "skipped" | "invalid";
					"location": string;
					"code": string;
					"reason": string;
					"userId"?: string;
				}>;
				"entries_truncated": boolean;
				"error"?: {
					"code": string;
					"reason": string;
					"location": string;
				};
				"started_at": string;
				"finished_at": string | null;
			}>;
		};
	};
	"POST /v1/imports": {
		body: never;
		query: {
			"format"?: "auto" | "otpauth" | "oath-csv" | "pskc" | "pi-csv" | "authelia";
			"dry_run"?: "true" | "false";
			"user_column"?: string;
			"user_from"?: "label" | "issuer-label";
			"replace_reason"?: string;
		};
		response: {
			"job_id": string | null;
			"status": "running" | "completed" | "failed" | "dry_run";
			"format": string;
			"counts": {
				"records": number;
				"users_created": number;
				"users_replaced": number;
				"factors_created": number;
				"skipped": number;
				"invalid": number;
				"weak_secret": number;
			};
			"entries": Array<{
				"outcome": "created" | "replaced" | "skipped" | "invalid";
				"location": string;
				"code": string;
				"reason": string;
				"userId"?: string;
			}>;
			"entries_truncated": boolean;
			"error"?: {
				"code": string;
				"reason": string;
				"location": string;
			};
			"started_at": string;
			"finished_at": string | null;
		};
	};
	"GET /v1/imports/{import_id}": {
		body: never;
		query: never;
		response: {
			"job_id": string | null;
			"status": "running" | "completed" | "failed" | "dry_run";
			"format": string;
			"counts": {
				"records": number;
				"users_created": number;
				"users_replaced": number;
				"factors_created": number;
				"skipped": number;
				"invalid": number;
				"weak_secret": number;
			};
			"entries": Array<{
				"outcome": "created" | "replaced" | "skipped" | "invalid";
				"location": string;
				"code": string;
				"reason": string;
				"userId"?: string;
			}>;
			"entries_truncated": boolean;
			"error"?: {
				"code": string;
				"reason": string;
				"location": string;
			};
			"started_at": string;
			"finished_at": string | null;
		};
	};
	"GET /v1/tenant": {
		body: never;
		query: never;
		response: {
			"id": string;
			"name": string;
			"settings": {
				"issuer": string;
				"totp": {
					"algorithm": "SHA1" | "SHA256" | "SHA512";
					"digits": number;
					"period": number;
					"window": number;
				};
				"hotp": {
					"look_ahead": number;
					"resync_window": number;
				};
				"attempts": {
					"throttle_after": number;
					"lock_after": number;
				};
				"pending_factor_ttl_seconds": number;
				"webauthn": {
					"rp_id": string | null;
					"rp_name": string | null;
					"origins": Array<string>;
					"user_verification": "required" | "preferred";
					"attestation": "none" | "direct";
					"allow_synced": boolean;
				};
				"assertions": {
					"ttl_seconds": number;
				};
				"email": {
					"enabled": boolean;
					"store_address": boolean;
					"subject": string;
					"text": string;
					"html": string;
				};
				"branding": {
					"display_name": string | null;
					"primary_color": string | null;
					"has_logo": boolean;
					"default_locale": "en" | "de";
				};
				"prompt": {
					"no_factor_policy": "enroll" | "deny" | "allow";
					"support_text": string | null;
					"support_url": string | null;
					"recovery_requests": boolean;
				};
				"imports": {
					"weak_secrets": "accept" | "refuse";
				};
			};
			"prompt_passkeys": {
				"usable": boolean;
				"reason"?: string;
			};
		};
	};
	"PATCH /v1/tenant": {
		body: {
			"issuer"?: string;
			"totp"?: {
				"algorithm"?: "SHA1" | "SHA256" | "SHA512";
				"digits"?: 6 | 7 | 8;
				"period"?: number;
				"window"?: number;
			};
			"hotp"?: {
				"look_ahead"?: number;
				"resync_window"?: number;
			};
			"attempts"?: {
				"throttle_after"?: number;
				"lock_after"?: number;
			};
			"pending_factor_ttl_seconds"?: number;
			"webauthn"?: {
				"rp_id"?: string;
				"rp_name"?: string;
				"origins"?: Array<string>;
				"user_verification"?: "required" | "preferred";
				"attestation"?: "none" | "direct";
				"allow_synced"?: boolean;
			};
			"assertions"?: {
				"ttl_seconds"?: number;
			};
			"branding"?: {
				"display_name"?: string | null;
				"primary_color"?: string | null;
				"default_locale"?: "en" | "de";
			};
			"prompt"?: {
				"no_factor_policy"?: "enroll" | "deny" | "allow";
				"support_text"?: string | null;
				"support_url"?: string | null;
				"recovery_requests"?: boolean;
			};
			"imports"?: {
				"weak_secrets"?: "accept" | "refuse";
			};
			"email"?: {
				"enabled"?: boolean;
				"store_address"?: boolean;
				"subject"?: string;
				"text"?: string;
				"html"?: string;
			};
		};
		query: never;
		response: {
			"id": string;
			"name": string;
			"settings": {
				"issuer": string;
				"totp": {
					"algorithm": "SHA1" | "SHA256" | "SHA512";
					"digits": number;
					"period": number;
					"window": number;
				};
				"hotp": {
					"look_ahead": number;
					"resync_window": number;
				};
				"attempts": {
					"throttle_after": number;
					"lock_after": number;
				};
				"pending_factor_ttl_seconds": number;
				"webauthn": {
					"rp_id": string | null;
					"rp_name": string | null;
					"origins": Array<string>;
					"user_verification": "required" | "preferred";
					"attestation": "none" | "direct";
					"allow_synced": boolean;
				};
				"assertions": {
					"ttl_seconds": number;
				};
				"email": {
					"enabled": boolean;
					"store_address": boolean;
					"subject": string;
					"text": string;
					"html": string;
				};
				"branding": {
					"display_name": string | null;
					"primary_color": string | null;
					"has_logo": boolean;
					"default_locale": "en" | "de";
				};
				"prompt": {
					"no_factor_policy": "enroll" | "deny" | "allow";
					"support_text": string | null;
					"support_url": string | null;
					"recovery_requests": boolean;
				};
				"imports": {
					"weak_secrets": "accept" | "refuse";
				};
			};
			"prompt_passkeys": {
				"usable": boolean;
				"reason"?: string;
			};
		};
	};
	"DELETE /v1/tenant/logo": {
		body: never;
		query: never;
		response: void;
	};
	"PUT /v1/tenant/logo": {
		body: never;
		query: never;
		response: void;
	};
	"DELETE /v1/users/{user_id}": {
		body: never;
		query: never;
		response: void;
	};
	"GET /v1/users/{user_id}": {
		body: never;
		query: never;
		response: {
			"id": string;
			"factors": Array<{
				"id": string;
				"type": "totp" | "hotp" | "webauthn";
				"status": "pending" | "active";
				"label": string;
				"created_at": string;
				"activated_at": string | null;
				"last_used_at": string | null;
				"weak_secret": boolean;
				"needs_resync": boolean;
				"webauthn"?: {
					"aaguid": string;
					"attestation": "verified" | "none";
					"model": string | null;
				};
			}>;
			"recovery_codes_remaining": number;
			"locked": boolean;
			"created_at": string;
		};
	};
	"POST /v1/users/{user_id}/challenges": {
		body: {
			"type": "webauthn";
		} | {
			"type": "email";
			"to": string;
		};
		query: never;
		response: {
			"challenge": {
				"id": string;
				"expires_at": string;
			};
			"webauthn": {
				"options": unknown;
			};
		} | {
			"challenge": {
				"id": string;
				"expires_at": string;
			};
			"email": {
				"sent": true;
			};
		};
	};
	"GET /v1/users/{user_id}/factors": {
		body: never;
		query: never;
		response: {
			"factors": Array<{
				"id": string;
				"type": "totp" | "hotp" | "webauthn";
				"status": "pending" | "active";
				"label": string;
				"created_at": string;
				"activated_at": string | null;
				"last_used_at": string | null;
				"weak_secret": boolean;
				"needs_resync": boolean;
				"webauthn"?: {
					"aaguid": string;
					"attestation": "verified" | "none";
					"model": string | null;
				};
			}>;
		};
	};
	"POST /v1/users/{user_id}/factors": {
		body: {
			"type": "totp";
			"label"?: string;
			"issuer"?: string;
			"algorithm"?: "SHA1" | "SHA256" | "SHA512";
			"digits"?: 6 | 7 | 8;
			"period"?: number;
			"secret"?: string;
			"code"?: unknown;
			"challenge_id"?: unknown;
			"credential"?: unknown;
			"assertion"?: string;
		} | {
			"type": "hotp";
			"label"?: string;
			"issuer"?: string;
			"algorithm"?: "SHA1" | "SHA256" | "SHA512";
			"digits"?: 6 | 7 | 8;
			"counter"?: number;
			"secret"?: string;
			"code"?: unknown;
			"challenge_id"?: unknown;
			"credential"?: unknown;
			"assertion"?: string;
		} | {
			"type": "webauthn";
			"label"?: string;
			"code"?: unknown;
			"challenge_id"?: unknown;
			"credential"?: unknown;
			"assertion"?: string;
		};
		query: never;
		response: {
			"factor": {
				"id": string;
				"type": "totp" | "hotp" | "webauthn";
				"status": "pending" | "active";
				"label": string;
				"created_at": string;
				"activated_at": string | null;
				"last_used_at": string | null;
				"weak_secret": boolean;
				"needs_resync": boolean;
				"webauthn"?: {
					"aaguid": string;
					"attestation": "verified" | "none";
					"model": string | null;
				};
			};
			"totp": {
				"secret": string;
				"uri": string;
				"qr_svg": string;
				"qr_png": string;
			};
		} | {
			"factor": {
				"id": string;
				"type": "totp" | "hotp" | "webauthn";
				"status": "pending" | "active";
				"label": string;
				"created_at": string;
				"activated_at": string | null;
				"last_used_at": string | null;
				"weak_secret": boolean;
				"needs_resync": boolean;
				"webauthn"?: {
					"aaguid": string;
					"attestation": "verified" | "none";
					"model": string | null;
				};
			};
			"webauthn": {
				"options": unknown;
			};
		} | {
			"factor": {
				"id": string;
				"type": "totp" | "hotp" | "webauthn";
				"status": "pending" | "active";
				"label": string;
				"created_at": string;
				"activated_at": string | null;
				"last_used_at": string | null;
				"weak_secret": boolean;
				"needs_resync": boolean;
				"webauthn"?: {
					"aaguid": string;
					"attestation": "verified" | "none";
					"model": string | null;
				};
			};
			"hotp"?: {
				"secret": string;
				"uri": string;
				"qr_svg": string;
				"qr_png": string;
			};
		};
	};
	"DELETE /v1/users/{user_id}/factors/{factor_id}": {
		body: {
			"code"?: unknown;
			"challenge_id"?: unknown;
			"credential"?: unknown;
			"assertion"?: string;
			"reason"?: string;
		};
		query: never;
		response: void;
	};
	"PATCH /v1/users/{user_id}/factors/{factor_id}": {
		body: {
			"label": string;
		};
		query: never;
		response: {
			"factor": {
				"id": string;
				"type": "totp" | "hotp" | "webauthn";
				"status": "pending" | "active";
				"label": string;
				"created_at": string;
				"activated_at": string | null;
				"last_used_at": string | null;
				"weak_secret": boolean;
				"needs_resync": boolean;
				"webauthn"?: {
					"aaguid": string;
					"attestation": "verified" | "none";
					"model": string | null;
				};
			};
		};
	};
	"POST /v1/users/{user_id}/factors/{factor_id}/confirm": {
		body: {
			"code"?: unknown;
			"credential"?: unknown;
		};
		query: never;
		response: {
			"factor": {
				"id": string;
				"type": "totp" | "hotp" | "webauthn";
				"status": "pending" | "active";
				"label": string;
				"created_at": string;
				"activated_at": string | null;
				"last_used_at": string | null;
				"weak_secret": boolean;
				"needs_resync": boolean;
				"webauthn"?: {
					"aaguid": string;
					"attestation": "verified" | "none";
					"model": string | null;
				};
			};
			"recovery_codes"?: Array<string>;
			"assertion": string;
		};
	};
	"POST /v1/users/{user_id}/factors/{factor_id}/resync": {
		body: {
			"codes": unknown;
		};
		query: never;
		response: {
			"factor": {
				"id": string;
				"type": "totp" | "hotp" | "webauthn";
				"status": "pending" | "active";
				"label": string;
				"created_at": string;
				"activated_at": string | null;
				"last_used_at": string | null;
				"weak_secret": boolean;
				"needs_resync": boolean;
				"webauthn"?: {
					"aaguid": string;
					"attestation": "verified" | "none";
					"model": string | null;
				};
			};
		};
	};
	"POST /v1/users/{user_id}/recovery-codes": {
		body: {
			"code"?: unknown;
			"challenge_id"?: unknown;
			"credential"?: unknown;
			"assertion"?: string;
			"reason"?: string;
		};
		query: never;
		response: {
			"recovery_codes": Array<string>;
		};
	};
	"POST /v1/users/{user_id}/reset": {
		body: {
			"reason": string;
			"notify_email"?: string;
		};
		query: never;
		response: {
			"reset": true;
			"factors_removed": number;
			"emailed": boolean;
		};
	};
	"POST /v1/users/{user_id}/unlock": {
		body: never;
		query: never;
		response: void;
	};
	"POST /v1/users/{user_id}/verify": {
		body: {
			"code"?: unknown;
			"challenge_id"?: unknown;
			"credential"?: unknown;
			"factor_id"?: string;
			"action"?: {
				[key: string]: unknown;
			};
			"audience"?: string;
			"first_factor"?: boolean;
		};
		query: never;
		response: {
			"valid": true;
			"method": "totp" | "hotp" | "webauthn" | "recovery_code" | "email";
			"factor_id"?: string;
			"recovery_codes_remaining": number;
			"assertion": string;
		};
	};
	"GET /v1/webhooks": {
		body: never;
		query: never;
		response: {
			"webhooks": Array<{
				"id": string;
				"url": string;
				"events": Array<string>;
				"enabled": boolean;
				"created_at": string;
				"disabled_at": string | null;
			}>;
		};
	};
	"POST /v1/webhooks": {
		body: {
			"url": string;
			"events": Array<string>;
		};
		query: never;
		response: {
			"webhook": {
				"id": string;
				"url": string;
				"events": Array<string>;
				"enabled": boolean;
				"created_at": string;
				"disabled_at": string | null;
			};
			"secret": string;
		};
	};
	"DELETE /v1/webhooks/{webhook_id}": {
		body: never;
		query: never;
		response: void;
	};
	"PATCH /v1/webhooks/{webhook_id}": {
		body: {
			"url"?: string;
			"events"?: Array<string>;
			"enabled"?: boolean;
		};
		query: never;
		response: {
			"id": string;
			"url": string;
			"events": Array<string>;
			"enabled": boolean;
			"created_at": string;
			"disabled_at": string | null;
		};
	};
	"GET /v1/webhooks/{webhook_id}/deliveries": {
		body: never;
		query: {
			"limit"?: string;
		};
		response: {
			"deliveries": Array<{
				"id": string;
				"event_type": string;
				"sequence": number;
				"status": "pending" | "delivered" | "failed";
				"attempts": number;
				"next_attempt_at": string | null;
				"last_status_code": number | null;
				"last_error": string | null;
				"delivered_at": string | null;
				"created_at": string;
			}>;
		};
	};
	"POST /v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry": {
		body: never;
		query: never;
		response: void;
	};
	"POST /v1/webhooks/{webhook_id}/rotate-secret": {
		body: never;
		query: never;
		response: {
			"secret": string;
			"previous_secret_expires_at": string;
		};
	};
}
