import { type Compilable, CompiledQuery, type Kysely, sql } from "kysely";
import { nameStatement, preparedQuery } from "../prepared-query.js";
import type { AttemptDecision, AttemptState, UserRepository } from "../store.js";
import type { Database, FactorTable, UserTable } from "../tables.js";

// The verify hot path: built once per dialect (prepared-query.ts).
export const FACTOR_COLUMNS = [
	"id",
	"tenant_id",
	"user_id",
	"type",
	"status",
	"label",
	"secret_envelope",
	"algorithm",
	"digits",
	"period",
	"last_used_step",
	"created_at",
	"expires_at",
	"activated_at",
	"last_used_at",
	"deleted_at",
	// Issue 17: needs_resync (an HOTP factor imported without a counter) is what the verify refuses until a resync;
	// the other import columns come along so an attempt's factors are whole rows, as listForUser reads them.
	"import_ref",
	"import_job_id",
	"weak_secret",
	"needs_resync",
] as const satisfies readonly (keyof FactorTable)[];

/** The user's attempt columns, prefixed u_ (attemptState reads them back); shared with the API key read of issue 19. */
export const USER_ATTEMPT_COLUMNS = [
	"users.tenant_id as u_tenant_id",
	"users.id as u_id",
	"users.created_at as u_created_at",
	"users.failed_attempts as u_failed_attempts",
	"users.next_attempt_at as u_next_attempt_at",
	"users.locked_at as u_locked_at",
	"users.record_expires_at as u_record_expires_at",
] as const;

/** The user, its unused recovery codes counted, and one row per live factor (or one row with no factor). */
const selectAttemptState = (db: Kysely<Database>, tenantId: string, userId: string) =>
	db
		.selectFrom("users")
		.leftJoin("factors", (join) =>
			join
				.onRef("factors.tenant_id", "=", "users.tenant_id")
				.onRef("factors.user_id", "=", "users.id")
				.on("factors.status", "!=", "deleted"),
		)
		.select([...USER_ATTEMPT_COLUMNS, ...FACTOR_COLUMNS.map((column) => `factors.${column} as f_${column}` as const)])
		.select((eb) =>
			eb
				.selectFrom("recovery_codes")
				.select((inner) => inner.fn.countAll<number | string>().as("count"))
				.whereRef("recovery_codes.tenant_id", "=", "users.tenant_id")
				.whereRef("recovery_codes.user_id", "=", "users.id")
				.where("recovery_codes.used_at", "is", null)
				.as("recovery_codes_remaining"),
		)
		.where("users.tenant_id", "=", tenantId)
		.where("users.id", "=", userId)
		.orderBy("factors.created_at")
		.orderBy("factors.id");
const lockUserSQLite = preparedQuery(selectAttemptState);
// The only dialect difference in the store: SQLite has no FOR UPDATE (and needs none, see store.ts).
// "OF users": only the user's row is locked; factors are changed by conditional updates.
const lockUserPostgres = preparedQuery((db, tenantId: string, userId: string) => selectAttemptState(db, tenantId, userId).forUpdate("users"));

/**
 * PostgreSQL, V-12a: the attempt record's insert and the locking read in one statement, so the verify path keeps
 * its round trips. Both parts see the statement's snapshot: for an id with a row, the insert does nothing and the
 * read locks the row; for a new id, the read finds nothing and the insert's RETURNING gives the row it created
 * (with no factors and no recovery codes), which no one else can see or lock until this transaction commits.
 */
const lockOrCreatePostgres = preparedQuery((db, tenantId: string, userId: string, createdAt: number, recordExpiresAt: number) => {
	const any = db as any;
	return any
		.with("created", (qc: any) =>
			qc
				.insertInto("users")
				.values({ tenant_id: tenantId, id: userId, created_at: createdAt, failed_attempts: 0, next_attempt_at: 0, locked_at: null, email: null, record_expires_at: recordExpiresAt })
				.onConflict((oc: any) => oc.columns(["tenant_id", "id"]).doNothing())
				.returning(["tenant_id", "id", "created_at", "failed_attempts", "next_attempt_at", "locked_at", "record_expires_at"]),
		)
		.with("held", (qc: any) => selectAttemptState(qc as Kysely<Database>, tenantId, userId).forUpdate("users"))
		.selectFrom("held")
		.selectAll()
		.unionAll((eb: any) =>
			eb
				.selectFrom("created")
				.select([
					"created.tenant_id as u_tenant_id",
					"created.id as u_id",
					"created.created_at as u_created_at",
					"created.failed_attempts as u_failed_attempts",
					"created.next_attempt_at as u_next_attempt_at",
					"created.locked_at as u_locked_at",
					"created.record_expires_at as u_record_expires_at",
					...FACTOR_COLUMNS.map((column) => sql`null`.as(`f_${column}`)),
					sql`0`.as("recovery_codes_remaining"),
				]),
		)
		.orderBy("f_created_at")
		.orderBy("f_id") as Compilable<AttemptRow>;
});

export type AttemptRow = Record<string, unknown>;

/** The rows of an attempt-state read (selectAttemptState's u_ and f_ columns), as one AttemptState. */
export function attemptState(rows: AttemptRow[]): AttemptState | undefined {
	const [first] = rows;
	if (first === undefined) return undefined;
	const user = {
		tenant_id: first.u_tenant_id,
		id: first.u_id,
		created_at: first.u_created_at,
		failed_attempts: first.u_failed_attempts,
		next_attempt_at: first.u_next_attempt_at,
		locked_at: first.u_locked_at,
		record_expires_at: first.u_record_expires_at,
	} as UserTable;
	const factors = rows
		.filter((row) => row.f_id !== null)
		.map((row) => Object.fromEntries(FACTOR_COLUMNS.map((column) => [column, row[`f_${column}`]])) as unknown as FactorTable);
	return { user, recoveryCodesRemaining: Number(first.recovery_codes_remaining ?? 0), factors };
}

const recordFailure = preparedQuery(
	(db, failedAttempts: number, nextAttemptAt: number, lockedAt: number | null, recordExpiresAt: number | null, tenantId: string, userId: string) =>
		db
			.updateTable("users")
			.set((eb) => ({
				failed_attempts: failedAttempts,
				next_attempt_at: nextAttemptAt,
				// A recorded lock is never cleared here: only an admin unlock clears it (R-OTP-6).
				locked_at: eb.fn.coalesce("locked_at", eb.val(lockedAt)),
				record_expires_at: recordExpiresAt,
			}))
			.where("tenant_id", "=", tenantId)
			.where("id", "=", userId),
);
/**
 * SQLite's half of lockOrCreateForAttempt (V-12a): an id with no row gets an attempt record, so the statements
 * that follow are the same for an unknown id as for a user; for a user the insert finds the row and does nothing.
 */
const ensureAttemptRecord = preparedQuery((db, tenantId: string, userId: string, createdAt: number, recordExpiresAt: number) =>
	db
		.insertInto("users")
		.values({ tenant_id: tenantId, id: userId, created_at: createdAt, failed_attempts: 0, next_attempt_at: 0, locked_at: null, email: null, record_expires_at: recordExpiresAt })
		.onConflict((oc) => oc.columns(["tenant_id", "id"]).doNothing()),
);
/**
 * PostgreSQL, issue 19 (ADR 0009): the attempt's decision, one statement (migrations/2026-12-03-verify-decision.ts).
 * Named like the hot-path queries (prepared-query.ts), so each connection parses and plans it once.
 */
const DECIDE_ATTEMPT = nameStatement(
	"select decision, decided_factor_id, failure_count, locked_now, retry_after from twofold_decide_attempt($1, $2, $3::bigint, $4::bigint, $5::text[], $6::bigint[], $7::text[], $8, $9, $10, $11, $12::integer, $13::integer[], $14::text[])",
);
type DecisionRow = { decision: string; decided_factor_id: string | null; failure_count: number; locked_now: boolean; retry_after: number };

const clearFailures = preparedQuery((db, tenantId: string, userId: string) =>
	db.updateTable("users").set({ failed_attempts: 0, next_attempt_at: 0 }).where("tenant_id", "=", tenantId).where("id", "=", userId),
);

export function userRepository(db: Kysely<Database>, dialect: "sqlite" | "postgres"): UserRepository {
	const lockUser = dialect === "postgres" ? lockUserPostgres : lockUserSQLite;
	return {
		find(tenantId, userId) {
			return db.selectFrom("users").selectAll().where("tenant_id", "=", tenantId).where("id", "=", userId).executeTakeFirst();
		},
		async ensure(tenantId, userId, now) {
			// An attempt record becomes the user's row: its count, throttle and lock carry over (ADR 0002), it stops expiring.
			await db
				.insertInto("users")
				.values({ tenant_id: tenantId, id: userId, created_at: now, failed_attempts: 0, next_attempt_at: 0, locked_at: null, email: null, record_expires_at: null })
				.onConflict((oc) =>
					oc
						.columns(["tenant_id", "id"])
						.doUpdateSet({ record_expires_at: null, created_at: now })
						.where("users.record_expires_at", "is not", null),
				)
				.execute();
		},
		async sweepAttemptRecords(now, limit) {
			const expired = await db
				.selectFrom("users")
				.select(["tenant_id", "id"])
				.where("record_expires_at", "is not", null)
				.where("record_expires_at", "<=", now)
				.orderBy("record_expires_at")
				.limit(limit)
				.execute();
			let deleted = 0;
			for (const row of expired) {
				// Conditional: a record that was just used again, or that enrolled, is no longer due.
				const result = await db
					.deleteFrom("users")
					.where("tenant_id", "=", row.tenant_id)
					.where("id", "=", row.id)
					.where("record_expires_at", "is not", null)
					.where("record_expires_at", "<=", now)
					.executeTakeFirst();
				deleted += Number(result.numDeletedRows);
			}
			return { deleted, more: expired.length === limit };
		},
		async setEmail(tenantId, userId, email) {
			await db.updateTable("users").set({ email }).where("tenant_id", "=", tenantId).where("id", "=", userId).execute();
		},
		async forgetEmails(tenantId) {
			await db.updateTable("users").set({ email: null }).where("tenant_id", "=", tenantId).where("email", "is not", null).execute();
		},
		async ensureMany(tenantId, userIds, now) {
			for (let start = 0; start < userIds.length; start += 500) {
				const values = userIds
					.slice(start, start + 500)
					.map((id) => ({ tenant_id: tenantId, id, created_at: now, failed_attempts: 0, next_attempt_at: 0, locked_at: null, email: null, record_expires_at: null }));
				// As ensure: an attempt record becomes the user's row (ADR 0002).
				await db
					.insertInto("users")
					.values(values)
					.onConflict((oc) =>
						oc
							.columns(["tenant_id", "id"])
							.doUpdateSet({ record_expires_at: null, created_at: now })
							.where("users.record_expires_at", "is not", null),
					)
					.execute();
			}
		},
		async lockMany(tenantId, userIds) {
			// SQLite: the write transaction already excludes every other writer (store.ts). PostgreSQL: the rows in byte
			// order (COLLATE "C", whatever the database's collation), the order the import sorts its users in and creates
			// them, so two jobs over overlapping users cannot deadlock each other.
			if (dialect !== "postgres" || userIds.length === 0) return;
			await db
				.selectFrom("users")
				.select("id")
				.where("tenant_id", "=", tenantId)
				.where("id", "in", [...userIds])
				.orderBy(sql`id collate "C"`)
				.forUpdate()
				.execute();
		},
		async lockForAttempt(tenantId, userId) {
			return attemptState((await lockUser(db, tenantId, userId)).rows as AttemptRow[]);
		},
		async lockOrCreateForAttempt(tenantId, userId, now, recordExpiresAt) {
			if (dialect === "postgres") {
				const state = attemptState((await lockOrCreatePostgres(db, tenantId, userId, now, recordExpiresAt)).rows as AttemptRow[]);
				if (state !== undefined) return state;
				// Another transaction created the record after this statement's snapshot was taken: it has committed
				// (the insert waited for it), so the next statement sees and locks it.
			} else {
				// SQLite: the group commit already serializes writers, and a statement costs microseconds.
				await ensureAttemptRecord(db, tenantId, userId, now, recordExpiresAt);
			}
			return attemptState((await lockUser(db, tenantId, userId)).rows as AttemptRow[]);
		},
		async recordFailure(tenantId, userId, failedAttempts, nextAttemptAt, lockedAt, recordExpiresAt = null) {
			await recordFailure(db, failedAttempts, nextAttemptAt, lockedAt, recordExpiresAt, tenantId, userId);
		},
		async clearFailures(tenantId, userId) {
			await clearFailures(db, tenantId, userId);
		},
		async decideAttempt(plan) {
			if (dialect !== "postgres") throw new Error("decideAttempt is PostgreSQL's (ADR 0009); SQLite attempts run in a transaction");
			const { effects, failure } = plan;
			const parameters = [
				plan.tenantId,
				plan.userId,
				plan.now,
				plan.recordTtlMs,
				effects.map((effect) => effect.factorId),
				effects.map((effect) => effect.step),
				effects.map((effect) => effect.method),
				failure.reason,
				failure.factorId,
				failure.method,
				plan.purpose,
				plan.lockAfter,
				[...plan.delays],
				[...plan.eventIds],
			];
			const row = (await db.executeQuery<DecisionRow>(CompiledQuery.raw(DECIDE_ATTEMPT, parameters))).rows[0];
			if (row === undefined) throw new Error("twofold_decide_attempt returned no row");
			return decisionOf(row);
		},
		async unlock(tenantId, userId) {
			const result = await db
				.updateTable("users")
				.set({ failed_attempts: 0, next_attempt_at: 0, locked_at: null })
				.where("tenant_id", "=", tenantId)
				.where("id", "=", userId)
				// An attempt record is not a user (it expires by itself); once the id enrolls, it is one.
				.where("record_expires_at", "is", null)
				.executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
		async delete(tenantId, userId) {
			// Children first, so the result does not depend on foreign-key enforcement settings.
			await db.deleteFrom("recovery_codes").where("tenant_id", "=", tenantId).where("user_id", "=", userId).execute();
			await db.deleteFrom("challenges").where("tenant_id", "=", tenantId).where("user_id", "=", userId).execute();
			await db.deleteFrom("webauthn_credentials").where("tenant_id", "=", tenantId).where("user_id", "=", userId).execute();
			await db.deleteFrom("factors").where("tenant_id", "=", tenantId).where("user_id", "=", userId).execute();
			// An attempt record is not a user: it is left to expire, and the answer is "no such user".
			const result = await db.deleteFrom("users").where("tenant_id", "=", tenantId).where("id", "=", userId).where("record_expires_at", "is", null).executeTakeFirst();
			return result.numDeletedRows > 0n;
		},
	};
}

function decisionOf(row: DecisionRow): AttemptDecision {
	switch (row.decision) {
		case "success":
			return { decision: "success", factorId: row.decided_factor_id! };
		case "failure":
			return { decision: "failure", failedAttempts: Number(row.failure_count), lockedNow: row.locked_now };
		case "locked":
			return { decision: "locked" };
		case "throttled":
			return { decision: "throttled", retryAfterSeconds: Number(row.retry_after) };
		default:
			throw new Error(`twofold_decide_attempt: unknown decision ${row.decision}`);
	}
}
