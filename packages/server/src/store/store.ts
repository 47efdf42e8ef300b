import type {
	APIKeyTable,
	ClientTable,
	OIDCPayloadTable,
	SigningKeyPurpose,
	ChallengeTable,
	EventTable,
	FactorTable,
	ImportJobTable,
	OperatorTable,
	ConsoleSessionTable,
	LogoTable,
	PromptSessionTable,
	RecoveryCodeTable,
	RedeemedAssertionTable,
	SigningKeyTable,
	TenantTable,
	WebhookDeliveryTable,
	WebhookTable,
	UserTable,
	WebAuthnCredentialTable,
	EventRollupTable,
	RollupGaugeTable,
} from "./tables.js";

/**
 * The persistence seam. Services depend on this type only; the one
 * implementation (kysely-store.ts) serves SQLite and PostgreSQL.
 *
 * Single-use state is consumed with one conditional statement whose row count
 * is the decision (consumeStep, activate, consume): never read-then-write.
 */
export interface Store {
	readonly dialect: "sqlite" | "postgres";
	/** Runs fn atomically: a result means it committed durably; a throw means nothing of it was kept. */
	transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
	/**
	 * Runs fn once the transaction this store belongs to has committed durably (on SQLite: its group's COMMIT), never when it
	 * rolls back; outside a transaction, at once. For what must count only what was kept, such as the event metrics (issue 14).
	 */
	afterCommit(fn: () => void): void;
	tenants: TenantRepository;
	apiKeys: APIKeyRepository;
	users: UserRepository;
	factors: FactorRepository;
	recoveryCodes: RecoveryCodeRepository;
	webauthnCredentials: WebAuthnCredentialRepository;
	challenges: ChallengeRepository;
	events: EventRepository;
	signingKeys: SigningKeyRepository;
	redeemedAssertions: RedeemedAssertionRepository;
	webhooks: WebhookRepository;
	webhookDeliveries: WebhookDeliveryRepository;
	sealedSecrets: SealedSecretRepository;
	logos: LogoRepository;
	recoveryRequests: RecoveryRequestRepository;
	clients: ClientRepository;
	oidcPayloads: OIDCPayloadRepository;
	promptSessions: PromptSessionRepository;
	importJobs: ImportJobRepository;
	operators: OperatorRepository;
	consoleSessions: ConsoleSessionRepository;
	userDirectory: UserDirectoryRepository;
	rollups: RollupRepository;
}

/**
 * The console overview's rollups (issue 16): read by the charts, written only by the fold (services/event-rollups.ts),
 * which runs in one transaction per batch and holds the cursor row first, so two nodes never fold the same events.
 */
export interface RollupRepository {
	/** The cursor, locked for this transaction (FOR UPDATE on PostgreSQL; SQLite has one writer). */
	lockCursor(): Promise<number>;
	setCursor(seq: number): Promise<void>;
	/** Events after `afterSeq` in seq order. */
	eventsAfter(afterSeq: number, limit: number): Promise<RollupEventRow[]>;
	addCounts(rows: readonly EventRollupTable[]): Promise<void>;
	/** The user's active factor kinds now (from the factors table). */
	activeKinds(tenantId: string, userId: string): Promise<string[]>;
	censusOf(tenantId: string, userId: string): Promise<number>;
	/** 0 deletes the row. */
	setCensus(tenantId: string, userId: string, kinds: number): Promise<void>;
	addGauges(tenantId: string, deltas: Readonly<Record<string, number>>): Promise<void>;
	/** Deletes hourly counts older than `before`; how many. */
	prune(before: number): Promise<number>;
	/** The tenant's hourly counts from `since` on. */
	counts(tenantId: string, since: number): Promise<EventRollupTable[]>;
	gauges(tenantId: string): Promise<RollupGaugeTable[]>;
	/** Pending deliveries per endpoint of the tenant: how many, how many already failed once or more, the oldest event's time. */
	webhookBacklog(tenantId: string): Promise<{ webhook_id: string; pending: number; retrying: number; oldest: number }[]>;
	/** The fold's lag: the cursor, and the newest event's seq. */
	position(): Promise<{ cursor: number; newest: number }>;
}

export type RollupEventRow = Pick<EventTable, "tenant_id" | "user_id" | "type" | "data" | "created_at"> & { seq: number };

/** Logos for the hosted prompt, keyed by tenant and owner ("tenant" or "client:<id>"). */
export interface LogoRepository {
	/** Inserts or replaces the owner's logo. */
	put(row: LogoTable): Promise<void>;
	find(tenantId: string, owner: string): Promise<LogoTable | undefined>;
	exists(tenantId: string, owner: string): Promise<boolean>;
	/** False when there was none. */
	delete(tenantId: string, owner: string): Promise<boolean>;
}

export interface RecoveryRequestRepository {
	/**
	 * INSERT … ON CONFLICT DO UPDATE … WHERE last_recorded_at <= now - minIntervalMs: true when this request is to be
	 * recorded (the first, or the first after the interval), false otherwise. The row count decides.
	 */
	record(tenantId: string, userId: string, now: number, minIntervalMs: number): Promise<boolean>;
}

export interface ClientRepository {
	insert(row: ClientTable): Promise<void>;
	/** Only within the tenant: another tenant's client is not found (issue 15). */
	find(tenantId: string, id: string): Promise<ClientTable | undefined>;
	list(tenantId: string): Promise<ClientTable[]>;
	/** False when the tenant has no such client. */
	update(tenantId: string, id: string, changes: Partial<Omit<ClientTable, "tenant_id" | "id" | "created_at" | "secret_envelope">>): Promise<boolean>;
	/** Deletes the client and everything the provider stored for it is left to expire. False when there is none. */
	delete(tenantId: string, id: string): Promise<boolean>;
}

/** oidc-provider's storage (oidc/adapter.ts), per tenant and model; ids arrive hashed. */
export interface OIDCPayloadRepository {
	/** Inserts or replaces the artefact. */
	upsert(row: OIDCPayloadTable): Promise<void>;
	/** The artefact unless it expired at `now`. */
	find(tenantId: string, model: string, idHash: string, now: number): Promise<OIDCPayloadTable | undefined>;
	findByUid(tenantId: string, model: string, uidHash: string, now: number): Promise<OIDCPayloadTable | undefined>;
	/** UPDATE … SET consumed_at = now WHERE not consumed: true only for the first consumer (a code is single use). */
	consume(tenantId: string, model: string, idHash: string, now: number): Promise<boolean>;
	destroy(tenantId: string, model: string, idHash: string): Promise<void>;
	/** Every artefact of these models issued under the grant. */
	revokeByGrantId(tenantId: string, models: readonly string[], grantId: string): Promise<void>;
	/** Housekeeping: artefacts expired before `now`, up to `limit`; returns how many went. */
	deleteExpired(now: number, limit: number): Promise<number>;
}

/** The prompt's per-browser interaction state (issue 15); every read and write names the tenant and interaction. */
export interface PromptSessionRepository {
	insert(row: PromptSessionTable): Promise<void>;
	/** The live row (expires_at after now) of this cookie hash for this tenant and interaction. */
	find(idHash: string, tenantId: string, interactionUid: string, now: number): Promise<PromptSessionTable | undefined>;
	/** Sets the given columns of the live row; false when it is gone or expired. */
	update(
		idHash: string,
		tenantId: string,
		interactionUid: string,
		now: number,
		changes: Partial<Pick<PromptSessionTable, "proved_at" | "proved_method" | "proof_envelope" | "pending_factor_id" | "enrollment_envelope" | "recovery_codes_envelope" | "email_challenge_id">>,
	): Promise<boolean>;
	delete(idHash: string, tenantId: string, interactionUid: string): Promise<void>;
	/** Deletes up to `limit` rows expired at `now`; the number deleted. */
	sweep(now: number, limit: number): Promise<number>;
}

/** A secret sealed under a master key, wherever it is stored. */
export interface SealedSecret {
	kind: "factor" | "signing_key" | "webhook" | "webhook_previous" | "client_secret";
	tenant_id: string | null;
	user_id: string | null;
	id: string;
	envelope: string;
}

export interface SealedSecretRepository {
	/** The ids of the master keys that sealed any stored secret (each envelope names its key). */
	keyIds(): Promise<string[]>;
	/** The next page of sealed secrets after `after` (null: from the start): factors in key order, then the rest in one page; [] at the end. */
	page(after: SealedSecret | null, limit: number): Promise<SealedSecret[]>;
	/** Replaces one envelope if it is still the one read; false when it changed or went meanwhile. */
	replace(secret: SealedSecret, next: string): Promise<boolean>;
}

export interface TenantRepository {
	insert(row: TenantTable): Promise<void>;
	find(id: string): Promise<TenantTable | undefined>;
	/** The applications' tenants, oldest first: never the system tenant (core/system-tenant.ts), which find() returns. */
	list(): Promise<TenantTable[]>;
	updateSettings(id: string, settings: string): Promise<void>;
	/** The tenant, its row held until the transaction ends (FOR UPDATE on PostgreSQL; SQLite has one writer): read-modify-write of settings. */
	findForUpdate(id: string): Promise<TenantTable | undefined>;
	/** PostgreSQL: locks the table against other inserts until the transaction ends (the first tenant of several nodes starting at once). SQLite's write transaction already excludes them. */
	lockForInsert(): Promise<void>;
}

export interface APIKeyRepository {
	insert(row: APIKeyTable): Promise<void>;
	/** The key and its tenant, if the key exists and is not revoked. */
	findActive(id: string): Promise<{ key: APIKeyTable; tenant: TenantTable } | undefined>;
	/**
	 * findActive and, in the same read, the attempt state of one user of the key's tenant (null: the tenant has no row
	 * for that id): a verify's first round trip on PostgreSQL (issue 19, ADR 0009). The user is looked up only within the
	 * key's own tenant, so a key never reads another tenant's user. Nothing is locked: the decision re-reads the row.
	 */
	findActiveWithAttempt(id: string, userId: string): Promise<{ key: APIKeyTable; tenant: TenantTable; attempt: AttemptState | null } | undefined>;
	revoke(id: string, now: number): Promise<boolean>;
	/** Sets last_used_at to now unless it is already after notBefore (conditional, so racing nodes write once). */
	recordUse(id: string, now: number, notBefore: number): Promise<boolean>;
	list(tenantId: string): Promise<APIKeyTable[]>;
}

export interface UserRepository {
	find(tenantId: string, userId: string): Promise<UserTable | undefined>;
	/** Twofold knows the user from now on: creates the row, or turns the id's attempt record into it (ADR 0002). */
	ensure(tenantId: string, userId: string, now: number): Promise<void>;
	/** ensure for several users in a few statements (a bulk import, issue 17). */
	ensureMany(tenantId: string, userIds: readonly string[], now: number): Promise<void>;
	/** The stored address (email.store_address), or null to forget it. */
	setEmail(tenantId: string, userId: string, email: string | null): Promise<void>;
	/** When a tenant stops storing addresses, every stored one goes. */
	forgetEmails(tenantId: string): Promise<void>;
	/**
	 * Holds these users' rows until the transaction ends (FOR UPDATE on PostgreSQL, in id order; SQLite has one
	 * writer): a bulk import decides and inserts under it, so a concurrent enrollment waits or is seen (issue 17).
	 */
	lockMany(tenantId: string, userIds: readonly string[]): Promise<void>;
	/**
	 * Reads the user at the start of an attempt and holds the row until the
	 * transaction ends: SELECT … FOR UPDATE on PostgreSQL; on SQLite the group
	 * commit's BEGIN IMMEDIATE on the one connection already serializes every
	 * writer. So the check of the budget, the evaluation and the write of the
	 * new count are one atomic step and the count never overshoots (V-3).
	 * One read brings everything an attempt needs: the user, the number of
	 * unused recovery codes and the user's factors that are not deleted.
	 */
	lockForAttempt(tenantId: string, userId: string): Promise<AttemptState | undefined>;
	/**
	 * Every attempt starts here (V-12a): lockForAttempt, but an id with no row first gets an attempt record
	 * expiring at recordExpiresAt, so it is counted like a user. One statement on PostgreSQL.
	 */
	lockOrCreateForAttempt(tenantId: string, userId: string, now: number, recordExpiresAt: number): Promise<AttemptState | undefined>;
	/**
	 * After a failed attempt on a locked row: the new count, throttle and (at the limit) lock time. A recorded
	 * lock is kept whatever lockedAt says. recordExpiresAt: an attempt record's new expiry; null for a user.
	 */
	recordFailure(tenantId: string, userId: string, failedAttempts: number, nextAttemptAt: number, lockedAt: number | null, recordExpiresAt?: number | null): Promise<void>;
	/** Deletes up to `limit` attempt records expired at `now` (never a user's row); `more` when there may be others. */
	sweepAttemptRecords(now: number, limit: number): Promise<{ deleted: number; more: boolean }>;
	/** After a success: the consecutive-failure count starts again. */
	clearFailures(tenantId: string, userId: string): Promise<void>;
	/**
	 * PostgreSQL only (issue 19, ADR 0009): decides a planned attempt in one statement, outside any transaction of the
	 * caller (the statement is its own): holds the user's row, refuses a locked or throttled user, applies the first
	 * success effect whose conditional update finds its row, else counts the plan's failure, and writes the events
	 * with their outbox rows. Throws on SQLite, whose attempts keep the transactional path.
	 */
	decideAttempt(plan: AttemptPlan): Promise<AttemptDecision>;
	/** False for an unknown id and for an attempt record, which is not a user. */
	unlock(tenantId: string, userId: string): Promise<boolean>;
	/** False for an unknown id and for an attempt record, which is not a user. */
	delete(tenantId: string, userId: string): Promise<boolean>;
}

/** What Node computed for one attempt, for decideAttempt: every branch's effects and event ids decided in advance. */
export interface AttemptPlan {
	tenantId: string;
	userId: string;
	now: number;
	/** An attempt record's lifetime after a counted failure (V-12a). */
	recordTtlMs: number;
	purpose: string;
	/** In order, the first whose `last_used_step < step` update finds its active factor wins (R-OTP-1). */
	effects: readonly { factorId: string; step: number; method: string }[];
	/** When no effect applies: its reason ("replay" when the effects found their steps spent), factor and method. */
	failure: { reason: string; factorId: string | null; method: string };
	lockAfter: number;
	/** Throttle delay in seconds after the k-th consecutive failure, at index k - 1; the last entry holds for every higher k. */
	delays: readonly number[];
	/** Pre-drawn event ids: [verification.succeeded, verification.replay_rejected, verification.failed, user.locked]. */
	eventIds: readonly [string, string, string, string];
}

export type AttemptDecision =
	| { decision: "success"; factorId: string }
	| { decision: "failure"; failedAttempts: number; lockedNow: boolean }
	| { decision: "locked" }
	| { decision: "throttled"; retryAfterSeconds: number };

export interface AttemptState {
	user: UserTable;
	recoveryCodesRemaining: number;
	/** Pending and active factors, oldest first. */
	factors: FactorTable[];
}

export interface FactorRepository {
	insert(row: FactorTable): Promise<void>;
	find(tenantId: string, userId: string, factorId: string): Promise<FactorTable | undefined>;
	listForUser(tenantId: string, userId: string): Promise<FactorTable[]>;
	/** UPDATE … SET last_used_step = step WHERE active AND last_used_step < step (R-OTP-1). */
	consumeStep(tenantId: string, userId: string, factorId: string, step: number, now: number): Promise<boolean>;
	/**
	 * UPDATE … SET last_used_step = last WHERE active AND last_used_step < first: a run of counters first … last is
	 * consumed whole or not at all (an HOTP resync's two codes, R-OTP-1).
	 */
	consumeCounters(tenantId: string, userId: string, factorId: string, first: number, last: number, now: number): Promise<boolean>;
	/** pending → active, consuming the confirming code's step, only if not expired. */
	activate(tenantId: string, userId: string, factorId: string, step: number, now: number): Promise<boolean>;
	/** Records a use that consumed no step (WebAuthn). */
	touch(tenantId: string, userId: string, factorId: string, now: number): Promise<void>;
	/** Tombstone: status deleted, secret erased (R-LC-2 keeps the record). */
	markDeleted(tenantId: string, userId: string, factorId: string, now: number): Promise<boolean>;
	/** Sets the label of a factor that is not deleted; false when there is none. */
	rename(tenantId: string, userId: string, factorId: string, label: string): Promise<boolean>;
	/**
	 * Removes these factors if they are still pending, with their registration challenges; returns the ids
	 * removed. A pending factor never bound anything, so no tombstone is kept (its factor.created event stays).
	 */
	discardPending(tenantId: string, userId: string, factorIds: readonly string[]): Promise<string[]>;
	/** The distinct periods of TOTP factors that are not deleted (restore fence, D-6). */
	totpPeriods(): Promise<number[]>;
	/** Raises last_used_step to `step` for every TOTP factor of that period below it; returns how many (D-6). */
	raiseLastUsedStep(period: number, step: number): Promise<number>;
	/** Adds `by` to the counter of every HOTP factor of the tenant that is not deleted, capped at 2^53-1; returns how many (D-6). */
	advanceHOTPCounters(tenantId: string, by: number): Promise<number>;
	/**
	 * Export (issue 17): the active factors of the next `limit` users of the tenant with an active factor whose id sorts
	 * after `afterUserId` (null: from the first), those users' factors whole, ordered by user id then creation; with
	 * `userIds`, only among those users. Pages by user, so a caller holds one page of users at a time.
	 */
	activeForExport(tenantId: string, page: { afterUserId: string | null; limit: number; userIds?: readonly string[] }): Promise<FactorTable[]>;
	/** Bulk import (issue 17): several rows in one statement (or a few, for very many). */
	insertMany(rows: readonly FactorTable[]): Promise<void>;
	/** The tenant's live (not deleted) factors with one of these import references: which exist already, and whose. */
	findImportRefs(tenantId: string, refs: readonly string[]): Promise<{ import_ref: string; user_id: string; import_job_id: string | null }[]>;
	/** The live (pending or active) factors of these users, in one read. */
	listLiveForUsers(tenantId: string, userIds: readonly string[]): Promise<FactorTable[]>;
}

/** Bulk import jobs (issue 17); all reads and writes name the tenant. */
export interface ImportJobRepository {
	insert(row: ImportJobTable): Promise<void>;
	/** The counts (and entries) so far, after a committed batch; or the final state. */
	update(tenantId: string, id: string, changes: Partial<Pick<ImportJobTable, "status" | "counts" | "entries" | "entries_truncated" | "error" | "updated_at" | "finished_at">>): Promise<void>;
	find(tenantId: string, id: string): Promise<ImportJobTable | undefined>;
	/** The most recent first. */
	list(tenantId: string, limit: number): Promise<ImportJobTable[]>;
	/**
	 * The final state, only if the job is still running (and, with staleBefore, its heartbeat older than that): true when
	 * this call ended it. One conditional update decides, so a job is ended (and its import.failed event appended) once.
	 */
	endIfRunning(tenantId: string, id: string, changes: Pick<ImportJobTable, "status" | "error" | "updated_at" | "finished_at"> & Partial<Pick<ImportJobTable, "counts" | "entries" | "entries_truncated">>, staleBefore?: number): Promise<boolean>;
}

/** Console operators (issue 16): the roster the CLI manages. */
export interface OperatorRepository {
	insert(row: OperatorTable): Promise<void>;
	findByName(name: string): Promise<OperatorTable | undefined>;
	/** By name. */
	list(): Promise<OperatorTable[]>;
	/** A new pending link (its token's hash and expiry) in place of any earlier one. */
	setEnrollment(id: string, hash: string, expiresAt: number): Promise<void>;
	/** Active to disabled, and its pending link void: true when this call did it. */
	disable(id: string, now: number): Promise<boolean>;
	/**
	 * Spends a pending link: one conditional update (unused, unexpired, the operator active) decides, so concurrent
	 * presentations of one link open it once. The operator, or undefined when the link opens nothing.
	 */
	spendEnrollment(hash: string, now: number): Promise<OperatorTable | undefined>;
	find(id: string): Promise<OperatorTable | undefined>;
}

/** The console's user list (issue 16): keyset pages of a tenant's users, never an attempt record. */
export interface UserDirectoryRepository {
	/** Users by id, after `after` when given; `prefix`: only ids that start with it; `lockedOnly`: only locked users. */
	page(tenantId: string, query: { prefix?: string; lockedOnly?: boolean; after?: string; limit: number }): Promise<UserTable[]>;
}

/** The console's sessions (issue 16), by the SHA-256 of their cookie. */
export interface ConsoleSessionRepository {
	insert(row: ConsoleSessionTable): Promise<void>;
	/** The session, if not ended, not expired and seen since `idleSince`. */
	findLive(idHash: string, now: number, idleSince: number): Promise<ConsoleSessionTable | undefined>;
	touch(idHash: string, now: number): Promise<void>;
	/** Records a fresh prompt verification (step-up). */
	markVerified(idHash: string, now: number): Promise<void>;
	end(idHash: string, now: number): Promise<void>;
	/** Ends every live session of the operator (disabled, or a new key issued): the number ended. */
	endAllOf(operatorId: string, now: number): Promise<number>;
}

export interface RecoveryCodeRepository {
	insertMany(rows: RecoveryCodeTable[]): Promise<void>;
	listUnused(tenantId: string, userId: string): Promise<RecoveryCodeTable[]>;
	countUnused(tenantId: string, userId: string): Promise<number>;
	/** UPDATE … SET used_at = now WHERE id = ? AND used_at IS NULL (R-RC-3). */
	consume(tenantId: string, userId: string, id: string, now: number): Promise<boolean>;
	deleteForUser(tenantId: string, userId: string): Promise<void>;
	/** Marks every unused code of every user used (restore fence with --revoke-recovery-codes, D-6); returns the users touched. */
	revokeAllUnused(now: number): Promise<{ tenant_id: string; user_id: string }[]>;
}

export interface WebAuthnCredentialRepository {
	/**
	 * INSERT … ON CONFLICT (credential_id) DO NOTHING: false when the credential id is bound anywhere
	 * already (R-WA-6), including by a registration committed concurrently (the unique index decides).
	 */
	insert(row: WebAuthnCredentialTable): Promise<boolean>;
	/** Takes back the credential of a factor whose activation failed in the same transaction. */
	remove(tenantId: string, userId: string, factorId: string): Promise<void>;
	listForUser(tenantId: string, userId: string): Promise<WebAuthnCredentialTable[]>;
	findByCredentialId(tenantId: string, userId: string, credentialId: string): Promise<WebAuthnCredentialTable | undefined>;
	/** UPDATE … SET sign_count = next WHERE sign_count = expected (R-WA-3: compare and store in one step). */
	advanceCounter(tenantId: string, userId: string, factorId: string, expected: number, next: number): Promise<boolean>;
}

export interface ChallengeRepository {
	insert(row: ChallengeTable): Promise<void>;
	find(tenantId: string, userId: string, id: string): Promise<ChallengeTable | undefined>;
	/** The registration challenge issued with a pending factor. */
	findRegistration(tenantId: string, userId: string, factorId: string): Promise<ChallengeTable | undefined>;
	/** UPDATE … SET consumed_at WHERE unconsumed AND unexpired AND this ceremony (R-WA-2); the row count decides. */
	consume(tenantId: string, userId: string, id: string, ceremony: ChallengeTable["ceremony"], now: number): Promise<boolean>;
	/** Housekeeping on each new challenge: the user's expired challenges go (used ones stay until then, so a reuse reads as a replay). */
	deleteStale(tenantId: string, userId: string, now: number): Promise<void>;
	/** Ends every open challenge of the user (of one ceremony, or all): only the newest email code is valid (R-EM-3); an admin reset revokes all. */
	revokeOpen(tenantId: string, userId: string, ceremony: ChallengeTable["ceremony"] | null, now: number): Promise<number>;
	/** Challenges of a ceremony created since `since`, for one user or (userId null) the whole tenant: send limits (R-EM-5). */
	countSince(tenantId: string, userId: string | null, ceremony: ChallengeTable["ceremony"], since: number): Promise<number>;
	/** Ends every open challenge of every user (restore fence, D-6); returns how many. */
	revokeAllOpen(now: number): Promise<number>;
}

export interface SigningKeyRepository {
	insert(row: SigningKeyTable): Promise<void>;
	/** Every key of the purpose (default: assertions) not retired before `retiredAfter` (pending, signing, or recently retired), newest activation first. */
	published(retiredAfter: number, purpose?: SigningKeyPurpose): Promise<SigningKeyTable[]>;
	/** Gives every key of the purpose (default: assertions) without a successor, except those in `keepIds`, the retirement time `at`. */
	retireOthers(keepIds: string | readonly string[], at: number, purpose?: SigningKeyPurpose): Promise<void>;
	/** Unpublishes every assertion key but `keepId` at once, retired or not (restore fence, D-6); returns their ids. */
	withdrawOthers(keepId: string): Promise<string[]>;
}

export interface RedeemedAssertionRepository {
	/** INSERT … ON CONFLICT (jti) DO NOTHING: true only for the first redemption (R-AS-5). */
	redeem(row: RedeemedAssertionTable): Promise<boolean>;
	/** Housekeeping: ids of expired assertions can go, since an expired assertion is refused anyway. */
	deleteExpired(now: number): Promise<void>;
}

export interface WebhookRepository {
	/** The endpoint and one subscription row per event type ("*" for all). */
	insert(row: WebhookTable, eventTypes: readonly string[]): Promise<void>;
	list(tenantId: string): Promise<WebhookTable[]>;
	find(tenantId: string, id: string): Promise<WebhookTable | undefined>;
	/** Changes the given columns; with eventTypes, replaces the subscriptions. False when there is no such endpoint. */
	update(tenantId: string, id: string, changes: Partial<Omit<WebhookTable, "tenant_id" | "id" | "created_at">>, eventTypes?: readonly string[]): Promise<boolean>;
	/** Deletes the endpoint, its subscriptions and its deliveries. */
	delete(tenantId: string, id: string): Promise<boolean>;
}

export type Delivery = Omit<WebhookDeliveryTable, "seq"> & { seq: number };
/** A due delivery with what sending it needs. */
export type DueDelivery = Delivery & { url: string; secret_envelope: string; previous_secret_envelope: string | null; previous_secret_until: number | null };

export interface WebhookDeliveryRepository {
	/**
	 * Claims up to `limit` due deliveries by moving their next attempt to `leaseUntil` (FOR UPDATE SKIP LOCKED
	 * on PostgreSQL, so nodes claim disjoint sets). A delivery waits while an earlier one for the same
	 * endpoint and user is pending: order per user is kept.
	 */
	claimDue(now: number, leaseUntil: number, limit: number): Promise<DueDelivery[]>;
	/** Records an attempt's outcome. */
	record(seq: number, outcome: Pick<WebhookDeliveryTable, "status" | "attempts" | "next_attempt_at" | "last_status_code" | "last_error" | "delivered_at">): Promise<void>;
	list(tenantId: string, webhookId: string, limit: number): Promise<Delivery[]>;
	/** For metrics: how many deliveries are pending, and when the oldest of them was created (null: none). */
	backlog(): Promise<{ pending: number; oldestCreatedAt: number | null }>;
	/** A failed or pending delivery is due again now; false for an unknown or delivered one. */
	retry(tenantId: string, webhookId: string, eventId: string, now: number): Promise<boolean>;
}

export interface EventQuery {
	userId?: string;
	type?: string;
	limit: number;
	/** Only events older than this sequence number (cursor pagination, newest first). */
	beforeSeq?: number;
	/** Only events a console operator caused (issue 16). */
	operatorId?: string;
	/** Only events created at or after / before these times (ms). */
	from?: number;
	until?: number;
}

export interface EventRepository {
	append(row: Omit<EventTable, "seq">): Promise<void>;
	/** Several events in order, each with its webhook deliveries as append writes them (a bulk import, issue 17). */
	appendMany(rows: readonly Omit<EventTable, "seq">[]): Promise<void>;
	list(tenantId: string, query: EventQuery): Promise<(Omit<EventTable, "seq"> & { seq: number })[]>;
	/** Records the console operator who caused the event (issue 16), for the console's filter by operator. */
	noteOperator(eventId: string, tenantId: string, operatorId: string, createdAt: number): Promise<void>;
}
