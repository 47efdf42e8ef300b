/**
 * The one catalog of API error codes. Every error body is
 * {"error": {"code": <key>, "message": <message>}}; docs/errors.md documents
 * each code and a test keeps the two in sync. Codes are a contract: never rename.
 */
export const ERROR_CODES = {
	invalid_request: { status: 400, message: "The request is malformed or fails validation." },
	invalid_secret: { status: 400, message: "The imported secret is not base32 or is shorter than 16 bytes." },
	proof_required: { status: 400, message: "This change needs a current code, or an admin key with a reason." },
	invalid_webhook_url: { status: 400, message: "The webhook URL must be an http(s) URL without credentials whose host resolves." },
	webhook_url_not_allowed: {
		status: 400,
		message: "The webhook URL is, or resolves to, an address that is not globally reachable (loopback, private, link-local, documentation, multicast or another special-purpose range); the operator can allow those with TWOFOLD_WEBHOOK_ALLOW_PRIVATE=true.",
	},
	invalid_email_address: { status: 400, message: "The to address is not an email address." },
	import_file_invalid: {
		status: 422,
		message: "The import file cannot be read: its format could not be detected (name it), or the whole file is refused (not well-formed, a DOCTYPE, a wrong MAC or passphrase); the report names the fault and where.",
	},
	invalid_webauthn_settings: { status: 400, message: "Every WebAuthn origin must be https (or http://localhost) on the rp_id or a subdomain of it." },
	unauthorized: { status: 401, message: "A valid API key is required." },
	forbidden: { status: 403, message: "This API key's scope does not allow this operation." },
	insufficient_proof: {
		status: 403,
		message: "This change needs a stronger proof: at least the user's strongest factor that stays (or the new factor's level, when adding); an email code never qualifies.",
	},
	not_found: { status: 404, message: "No such route." },
	user_not_found: { status: 404, message: "No such user." },
	factor_not_found: { status: 404, message: "No such factor." },
	webhook_not_found: { status: 404, message: "No such webhook." },
	client_not_found: { status: 404, message: "No such client." },
	prompt_expired: { status: 404, message: "This sign-in request is over or expired; go back to the application and start again." },
	import_not_found: { status: 404, message: "No such import job." },
	delivery_not_found: { status: 404, message: "No such delivery, or it was delivered already." },
	factor_not_pending: { status: 409, message: "The factor is not waiting for confirmation." },
	no_active_factor: { status: 409, message: "The user has no active factor." },
	webauthn_not_configured: { status: 409, message: "Set the tenant's webauthn rp_id, rp_name and origins first (PATCH /v1/tenant)." },
	attestation_not_configured: {
		status: 409,
		message: "Attestation \"direct\" needs trust anchors on this server (TWOFOLD_FIDO_MDS_FILE or TWOFOLD_ATTESTATION_ROOTS_DIR); ask the operator.",
	},
	credential_exists: { status: 409, message: "This credential is already registered." },
	// 409, not 400: the request is well-formed; it conflicts with what the factor is (only an HOTP counter can drift).
	resync_not_supported: { status: 409, message: "Only an active HOTP factor can be resynchronized; this factor has no counter to resynchronize." },
	too_many_pending_factors: { status: 409, message: "The user has 5 factors waiting for confirmation: confirm or delete one, or wait until one expires." },
	no_webauthn_factor: { status: 409, message: "The user has no active WebAuthn factor." },
	email_not_enabled: { status: 409, message: "Email codes are off for this tenant (PATCH /v1/tenant {\"email\": {\"enabled\": true}})." },
	recovery_requests_disabled: { status: 409, message: "This tenant does not take recovery requests (prompt.recovery_requests is false)." },
	assertion_redeemed: { status: 409, message: "This assertion was redeemed already." },
	system_tenant: {
		status: 409,
		message: "This is the system tenant, whose users are the console's operators: it has no API keys; manage operators with `twofold operators`.",
	},
	import_timeout: { status: 408, message: "The import's body did not arrive in time (idle or total bound); the job stops, and the batches committed so far stay." },
	request_timeout: { status: 408, message: "The request's headers or body did not arrive in time; the connection is closed." },
	factor_expired: { status: 410, message: "The pending factor expired; enroll again." },
	import_too_large: { status: 413, message: "The import body is over the server's import limit (TWOFOLD_IMPORT_MAX_BYTES)." },
	payload_too_large: { status: 413, message: "The request body is too large." },
	uri_too_long: { status: 414, message: "The request path is too long." },
	unsupported_logo_type: {
		status: 415,
		message: "A logo is a PNG, JPEG, WebP or GIF image sent with its own Content-Type (image/png, image/jpeg, image/webp, image/gif); SVG and other formats are refused.",
	},
	unsupported_media_type: { status: 415, message: "Send a JSON body with Content-Type: application/json." },
	invalid_logo: { status: 422, message: "The logo's bytes are not a well-formed image of its Content-Type." },
	invalid_code: { status: 422, message: "The code is not valid." },
	invalid_credential: { status: 422, message: "The WebAuthn response is not valid for this challenge." },
	invalid_assertion: { status: 422, message: "The assertion is not valid: wrong signature, issuer, tenant or user, expired, or not fresh enough." },
	locked: { status: 423, message: "Too many failed attempts; an administrator must unlock this user." },
	too_many_emails: { status: 429, message: "Too many codes sent; retry after the delay in Retry-After." },
	too_many_attempts: { status: 429, message: "Too many failed attempts; retry after the delay in Retry-After." },
	rate_limited: { status: 429, message: "Too many requests from this address or tenant; retry after the delay in Retry-After." },
	headers_too_large: { status: 431, message: "The request headers are too large; the connection is closed." },
	internal_error: { status: 500, message: "Internal error; nothing was accepted." },
	email_not_sent: { status: 502, message: "The mail server did not take the message; the code was withdrawn." },
	clock_skew: {
		status: 503,
		message: "This node's clock differs from the database's by more than TWOFOLD_MAX_CLOCK_SKEW_MS; it checks no codes until that is fixed.",
	},
	email_not_configured: { status: 503, message: "The operator has not configured outgoing mail (TWOFOLD_SMTP_URL, TWOFOLD_SMTP_FROM)." },
	rate_limit_unavailable: { status: 503, message: "The rate-limit store (Redis) does not answer; no request is let through unchecked." },
	service_unavailable: { status: 503, message: "The service is not ready." },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
