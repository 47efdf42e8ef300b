import type { Generated } from "kysely";

/** Row types as stored. Times are integer milliseconds since the Unix epoch (UTC). */
export interface TenantTable {
	id: string;
	name: string;
	/** JSON text of TenantSettings. */
	settings: string;
	created_at: number;
}

export interface APIKeyTable {
	id: string;
	tenant_id: string;
	secret_hash: string;
	scope: "default" | "admin";
	created_at: number;
	revoked_at: number | null;
	/** The last authentication, to the minute (written at most once a minute per key); null: never recorded. */
	last_used_at: number | null;
}

export interface UserTable {
	tenant_id: string;
	id: string;
	created_at: number;
	/** Consecutive failures across every factor (R-OTP-6); reset only by a success or an admin unlock. */
	failed_attempts: number;
	/** Throttle: no attempt is evaluated before this time. */
	next_attempt_at: number;
	/** Set when the user was locked (R-OTP-6); the lock is this recorded state, and only an admin unlock clears it. */
	locked_at: number | null;
	/**
	 * Null for every user Twofold knows. Set only on an attempt record: the row a failed attempt creates for an
	 * id that never enrolled, so it is throttled and locked like a user (V-12a). The record is deleted after this
	 * time (each counted failure moves it on); enrolling makes it the user's row and clears it (ADR 0002).
	 */
	record_expires_at: number | null;
	/** Only when the tenant opted in (email.store_address): where the last email code went. PII, so off by default. */
	email: string | null;
}

export interface FactorTable {
	id: string;
	tenant_id: string;
	user_id: string;
	type: "totp" | "hotp" | "webauthn";
	status: "pending" | "active" | "deleted";
	label: string;
	/** AES-256-GCM envelope bound to (tenant, user, factor); null once deleted. */
	secret_envelope: string | null;
	/** TOTP and HOTP (period: TOTP only); null for WebAuthn. */
	algorithm: "SHA1" | "SHA256" | "SHA512" | null;
	digits: number | null;
	period: number | null;
	/** TOTP: the highest time step accepted so far; -1 before the first (R-OTP-1). HOTP: the last accepted counter; the start counter - 1 before the first. */
	last_used_step: number;
	created_at: number;
	expires_at: number | null;
	activated_at: number | null;
	last_used_at: number | null;
	deleted_at: number | null;
	/**
	 * Imported factors only (issue 17; optional so enrollment's rows need not name them, the columns default):
	 * the stable import reference (serial, or keyed HMAC), unique among the tenant's live factors; the job that
	 * created it; 1 for a secret of 80-127 bits (R-OTP-4 as amended); 1 for an HOTP token imported without a
	 * counter, refused by verify until resynchronized.
	 */
	import_ref?: string | null;
	import_job_id?: string | null;
	weak_secret?: number;
	needs_resync?: number;
}

export interface RecoveryCodeTable {
	id: string;
	tenant_id: string;
	user_id: string;
	salt: string;
	hash: string;
	created_at: number;
	used_at: number | null;
}

/** A WebAuthn public-key credential, bound to its factor once the registration is verified. */
export interface WebAuthnCredentialTable {
	tenant_id: string;
	user_id: string;
	factor_id: string;
	/** base64url; unique across all tenants and users (R-WA-6). */
	credential_id: string;
	/** COSE public key, base64url. Public, so stored in the clear. */
	public_key: string;
	/** The highest signature counter seen (R-WA-3). */
	sign_count: number;
	/** JSON array of transport hints, for allowCredentials/excludeCredentials. */
	transports: string;
	/** The WebAuthn user handle given at registration, base64url (random, not the user id). */
	user_handle: string;
	backed_up: number;
	device_type: "singleDevice" | "multiDevice";
	aaguid: string;
	/** 1: the attestation chain reached a configured trust anchor at registration (V-15). */
	attested: number;
	/** The attested model's MDS description, if any. */
	model: string | null;
	created_at: number;
}

/** A WebAuthn ceremony's challenge (R-WA-2): single use, short-lived, bound to tenant, user and ceremony. */
export interface ChallengeTable {
	tenant_id: string;
	user_id: string;
	id: string;
	/** WebAuthn ceremonies, or an email code (the challenge column then holds the code's HMAC, R-EM-4). */
	ceremony: "registration" | "authentication" | "email";
	/** Registration: the pending factor the credential will belong to. */
	factor_id: string | null;
	/** 32 random bytes, base64url, as sent to the browser. */
	challenge: string;
	/** Registration: the user handle offered to the authenticator. */
	user_handle: string | null;
	created_at: number;
	expires_at: number;
	consumed_at: number | null;
}

export interface EventTable {
	seq: Generated<number>;
	id: string;
	tenant_id: string;
	user_id: string | null;
	type: string;
	factor_id: string | null;
	/** JSON text; never holds secrets or codes (R-ST-4). */
	data: string;
	created_at: number;
}

export type SigningKeyPurpose = "assertion" | "id_token";

/** A key that signs step-up assertions; retired keys stay published until their last assertion expires. */
export interface SigningKeyTable {
	/** The JWS kid. */
	id: string;
	/** EdDSA for assertions; RS256 or EdDSA for the prompt's id_tokens (issue 15). */
	algorithm: "EdDSA" | "RS256";
	/** What it signs: step-up assertions, or the prompt's id_tokens (their own keys, rotated together, never mixed). */
	purpose: SigningKeyPurpose;
	/** The public JWK, JSON. */
	public_jwk: string;
	/** PKCS#8 private key sealed under the master key, bound to the kid. */
	private_envelope: string;
	created_at: number;
	/** When it starts signing; until then it is only published (pre-publication for verifiers' JWKS caches). */
	activates_at: number;
	/** When it stops signing (its successor's activation); null while it has no successor. */
	retired_at: number | null;
}

/** An assertion id spent once: redeemed (R-AS-5) or presented as a proof for a factor change. */
export interface RedeemedAssertionTable {
	jti: string;
	tenant_id: string;
	user_id: string;
	expires_at: number;
	redeemed_at: number;
}

/** A tenant's webhook endpoint (issue 5). */
export interface WebhookTable {
	tenant_id: string;
	id: string;
	url: string;
	/** JSON array: ["*"] or event types. */
	events: string;
	enabled: number;
	/** The signing secret, sealed under the master key and bound to the endpoint. */
	secret_envelope: string;
	previous_secret_envelope: string | null;
	previous_secret_until: number | null;
	created_at: number;
	disabled_at: number | null;
}

export interface WebhookSubscriptionTable {
	tenant_id: string;
	event_type: string;
	webhook_id: string;
}

/** One event for one endpoint: the outbox row, written with the event, then delivered and retried. */
export interface WebhookDeliveryTable {
	seq: Generated<number>;
	tenant_id: string;
	webhook_id: string;
	event_id: string;
	event_type: string;
	user_id: string | null;
	factor_id: string | null;
	data: string;
	event_created_at: number;
	status: "pending" | "delivered" | "failed";
	attempts: number;
	next_attempt_at: number;
	last_status_code: number | null;
	last_error: string | null;
	delivered_at: number | null;
}

/** A logo for the hosted prompt (issue 15): the tenant's (owner "tenant") or a client's (owner "client:<id>"). */
export interface LogoTable {
	tenant_id: string;
	owner: string;
	/** One of image/png, image/jpeg, image/webp, image/gif, checked against the bytes at upload. */
	content_type: string;
	/** The image as uploaded, at most 64 KB. */
	bytes: Uint8Array;
	/** SHA-256 of bytes, hex: the public route's ETag. */
	sha256: string;
	updated_at: number;
}

/** When a user's last recovery request was recorded as an event (at most one an hour, services/users.ts). */
export interface RecoveryRequestTable {
	tenant_id: string;
	user_id: string;
	last_recorded_at: number;
}

/** A registered OpenID Connect client (relying party) of one tenant (issue 15). Confidential only. */
export interface ClientTable {
	tenant_id: string;
	/** The client_id: cli_… */
	id: string;
	name: string;
	/** JSON arrays of exact URIs. */
	redirect_uris: string;
	post_logout_redirect_uris: string;
	token_endpoint_auth_method: "client_secret_basic" | "client_secret_post" | "private_key_jwt";
	/** The client's public keys for private_key_jwt, inline (a JWKS JSON text); null for the secret methods. */
	jwks: string | null;
	id_token_signed_response_alg: "RS256" | "EdDSA";
	/**
	 * The client secret sealed under the master key, bound to (tenant, client): oidc-provider compares secrets itself,
	 * so it must be opened, not hashed. Null for private_key_jwt.
	 */
	secret_envelope: string | null;
	created_at: number;
	updated_at: number;
}

/**
 * What oidc-provider stores (interactions, pushed requests, codes, grants, sessions), one row per artefact. The id
 * column is SHA-256 of the artefact's id, and the payload keeps no copy of it: an authorization code or a session id
 * read from the database is not a usable credential.
 */
export interface OIDCPayloadTable {
	tenant_id: string;
	model: string;
	id_hash: string;
	/** The grant it belongs to (for revoking everything issued under a grant); null for the others. */
	grant_id: string | null;
	/** A session's uid, hashed like the id, for findByUid. */
	uid_hash: string | null;
	/** JSON text of the payload without its id. */
	payload: string;
	expires_at: number;
	consumed_at: number | null;
}

/**
 * A browser's state in one prompt interaction (issue 15), keyed by the hash of its `__Host-twofold-prompt` cookie
 * and bound to the tenant and oidc-provider's interaction uid: one cookie, one row per interaction, so two tabs do
 * not disturb each other. Secrets (the last proof's assertion, a pending enrollment's key, recovery codes not yet
 * acknowledged) are sealed under the master key, bound to this row, and never kept in a plain column.
 */
export interface PromptSessionTable {
	/** SHA-256 of the cookie value, base64url: the cookie itself is never stored. */
	id_hash: string;
	tenant_id: string;
	interaction_uid: string;
	user_id: string;
	/** When the user last proved a factor on this interaction (ms), and with what method; null: not yet. */
	proved_at: number | null;
	proved_method: string | null;
	/** The step-up assertion of that proof, sealed (the interaction ends with it). */
	proof_envelope: string | null;
	/** The factor being enrolled and, sealed, what the page shows while it is confirmed (the key, its QR code). */
	pending_factor_id: string | null;
	enrollment_envelope: string | null;
	/** Recovery codes shown once and kept, sealed, only until the user says they saved them. */
	recovery_codes_envelope: string | null;
	/** The email code this session sent: its challenge id (the code is only an HMAC in challenges, R-EM-4). */
	email_challenge_id: string | null;
	created_at: number;
	expires_at: number;
}

/** One bulk import run (issue 17); never a secret in any column. */
export interface ImportJobTable {
	id: string;
	tenant_id: string;
	status: "running" | "completed" | "failed";
	format: string;
	source_name: string | null;
	/** JSON of ImportCounts (services/import-types.ts), updated after each committed batch. */
	counts: string;
	/** JSON of the report's entries, the first 1,000. */
	entries: string;
	entries_truncated: number;
	/** JSON {code, reason, location} of the file fault that ended a failed job. */
	error: string | null;
	actor_key_id: string;
	started_at: number;
	updated_at: number;
	finished_at: number | null;
}

/** A console operator (issue 16), a user of the system tenant; never a secret in any column (the link's token is hashed). */
export interface OperatorTable {
	id: string;
	name: string;
	role: "viewer" | "support" | "admin";
	/** "*" (every tenant) or JSON of the tenant ids the operator may see and act on. */
	tenant_scope: string;
	status: "active" | "disabled";
	created_at: number;
	disabled_at: number | null;
	/** SHA-256 of the pending enrollment link's token (core/operator.ts); null once none is pending. */
	enrollment_hash: string | null;
	enrollment_expires_at: number | null;
	enrollment_used_at: number | null;
}

/** A signed-in console session (issue 16): the cookie's SHA-256 only. */
export interface ConsoleSessionTable {
	id_hash: string;
	operator_id: string;
	created_at: number;
	last_seen_at: number;
	verified_at: number;
	expires_at: number;
	ended_at: number | null;
}

/** The console operator who caused an event (issue 16), beside the event itself. */
export interface EventActorTable {
	event_id: string;
	tenant_id: string;
	operator_id: string;
	created_at: number;
}

export interface Database {
	tenants: TenantTable;
	api_keys: APIKeyTable;
	users: UserTable;
	factors: FactorTable;
	recovery_codes: RecoveryCodeTable;
	webauthn_credentials: WebAuthnCredentialTable;
	challenges: ChallengeTable;
	events: EventTable;
	signing_keys: SigningKeyTable;
	redeemed_assertions: RedeemedAssertionTable;
	webhooks: WebhookTable;
	webhook_subscriptions: WebhookSubscriptionTable;
	webhook_deliveries: WebhookDeliveryTable;
	logos: LogoTable;
	recovery_requests: RecoveryRequestTable;
	clients: ClientTable;
	oidc_payloads: OIDCPayloadTable;
	prompt_sessions: PromptSessionTable;
	import_jobs: ImportJobTable;
	operators: OperatorTable;
	console_sessions: ConsoleSessionTable;
	event_actors: EventActorTable;
	event_rollups: EventRollupTable;
	rollup_gauges: RollupGaugeTable;
	factor_census: FactorCensusTable;
	rollup_cursor: RollupCursorTable;
}

/** The console overview's per-hour counts (issue 16, core/event-rollup.ts): small, read by the charts. */
export interface EventRollupTable {
	tenant_id: string;
	/** The hour's start, ms since the epoch (UTC). */
	hour: number;
	metric: string;
	count: number;
}

/** Per-tenant gauges moved by exact deltas as the census changes: users with a factor, users with each kind. */
export interface RollupGaugeTable {
	tenant_id: string;
	metric: string;
	value: number;
}

/** Which factor kinds a user has active (bits: 1 TOTP, 2 HOTP, 4 WebAuthn); no row for a user with none. */
export interface FactorCensusTable {
	tenant_id: string;
	user_id: string;
	kinds: number;
}

/** The rollup fold's position: the last event seq folded in. */
export interface RollupCursorTable {
	name: string;
	seq: number;
}
