import { fieldError, ServiceError } from "../contract/service-error.js";
import { generateId } from "../core/id.js";
import { sealFactorSecret } from "../factors/factor-secret.js";
import type { Store } from "../store/store.js";
import type { FactorTable, ImportJobTable } from "../store/tables.js";
import { DETECT_BYTES, detectFormat } from "../token-files/detect-format.js";
import { type ImportFormat, type ImportItem, type ImportProblem, type ImportRecord, TokenFileError } from "../token-files/import-record.js";
import type { ServiceDeps } from "./deps.js";
import { appendEvent, appendEvents, type NewEvent } from "./events.js";
import { checkRecord } from "./import-decisions.js";
import { readTokenFileOnThread } from "./import-reader-thread.js";
import { importRef } from "./import-ref.js";
import type { ImportCounts, ImportOptions, ImportProgress, ImportReport, ImportReportEntry } from "./import-types.js";
import { requireAdmin } from "./require-admin.js";
import type { TenantContext } from "./tenant-context.js";
import { resetFactorsInTransaction } from "./users.js";

/**
 * Bulk import (issue 17): the records a token-file reader yields become ACTIVE factors, without a live code: an
 * operator's trusted action, audited once per job (import.completed / import.failed) and once per user
 * (factor.imported, beside the factor.created and factor.activated enrollment emits).
 *
 * - Users are decided in batches of BATCH_USERS, one write transaction per batch; a user's records in one batch are
 *   written all or none: a user with any invalid record gets nothing, and is reported. A later record of a user an
 *   earlier batch wrote is refused (user_split_in_file); a re-run of the file finishes such a user (decide).
 * - R-LC-1: only into users without an active factor; otherwise skipped (user_has_factor), or, with a replace
 *   reason, reset through the admin-reset path first (resetFactorsInTransaction), in the same transaction.
 * - The decision and the insert are under the users' row locks (PostgreSQL FOR UPDATE in id order; SQLite's one
 *   writer), so an enrollment racing the job is either seen (the user is skipped) or waits: it never fails the batch.
 * - Idempotent: each factor has an import reference (import-ref.ts), unique among the tenant's live factors; a
 *   record whose reference exists is skipped as already imported.
 * - Replay fences (R-OTP-1): TOTP last_used_step is the later of the source's last used step and the current step
 *   (a code the old system accepted, before or after its export, cannot be used again here); HOTP last_used_step is counter - 1 (the record's counter is the
 *   NEXT one), else the factor needs resynchronization before any code verifies.
 * - Secrets are sealed as enrollment seals them (factor-secret.ts, R-ST-1/R-ST-2) and zeroed once used; reports,
 *   job rows, events and logs carry locations, codes and reasons, never a secret (R-ST-4).
 */

export const BATCH_USERS = 500;
/** The report lists the first ones; entries_truncated says when there were more. */
export const MAX_REPORT_ENTRIES = 1000;
/**
 * A user's records may be far apart in a file. Outcomes of users already decided are remembered (up to this many),
 * so a later record of a user written by this job is refused (user_split_in_file), or with a user refused before.
 * Past the bound, the database decides (factors written by this job carry its id); only a dry run then checks less.
 */
export const MAX_TRACKED_USERS = 200_000;
/** A running job's row is refreshed (updated_at) at least this often (issue 17 review, item 2). */
export const HEARTBEAT_MS = 15_000;
/** A job "running" without a heartbeat for this long died with its process: a read ends it failed ("interrupted"). */
export const STALE_MS = 5 * 60_000;

type JobError = { code: string; reason: string; location: string };

/** The caller's signal (the CLI's SIGINT/SIGTERM): the job ends failed, "interrupted". */
class Interrupted extends Error {}

const INTERRUPTED: JobError = { code: "interrupted", reason: "the import was interrupted before the end of the file (a signal, or its process ended); the batches committed before it stay, each user whole", location: "" };

/**
 * The job row's heartbeat: a timer refreshes updated_at, but never while a batch's transaction is open (on SQLite one
 * connection serves both, so the refresh would join or wait on the batch): a batch waits for a refresh under way, and
 * a tick during a batch is skipped (the batch's own saveProgress refreshes it).
 */
class Heartbeat {
	#busy = false;
	#pending: Promise<void> = Promise.resolve();
	readonly #timer: NodeJS.Timeout;

	constructor(touch: () => Promise<void>) {
		this.#timer = setInterval(() => {
			if (this.#busy) return;
			this.#pending = this.#pending.then(touch).catch(() => undefined);
		}, HEARTBEAT_MS);
		this.#timer.unref();
	}

	async exclusive<T>(work: () => Promise<T>): Promise<T> {
		this.#busy = true;
		try {
			await this.#pending;
			return await work();
		} finally {
			this.#busy = false;
		}
	}

	async stop(): Promise<void> {
		clearInterval(this.#timer);
		await this.#pending;
	}
}

/**
 * A user's outcome earlier in this file. "matched": every record so far was imported already (a re-run): a later
 * record of the user is decided by the database (decide: completing a user an earlier run half-imported).
 */
type Seen = { outcome: "written" } | { outcome: "refused"; as: "invalid" | "skipped" } | { outcome: "matched" };

/** Stands for a dry run's own (unwritten) factors where a real run would find its job id on them. */
const DRY_RUN = "(this dry run)";

interface Group {
	userId: string;
	records: ImportRecord[];
	problems: ImportProblem[];
}

const zeroCounts = (): ImportCounts => ({ records: 0, users_created: 0, users_replaced: 0, factors_created: 0, skipped: 0, invalid: 0, weak_secret: 0 });

/** What one job has decided so far. */
class JobState {
	readonly counts = zeroCounts();
	readonly entries: ImportReportEntry[] = [];
	truncated = false;
	usersDecided = 0;
	/**
	 * Compact, as 100,000 users must fit in 250 MB: "i" refused as invalid, "s" skipped, "w" written, "m" matched.
	 */
	readonly #seen = new Map<string, string>();
	/**
	 * The references of this file's records found in the database for their own user (imported by an earlier run):
	 * a user whose every active factor is one of these may be completed (issue 17 review, item 1).
	 */
	readonly #matched = new Set<string>();
	/** A dry run's references it would have written, and for whom (a real run finds them in the database). */
	readonly #refs: Map<string, string> | undefined;

	constructor(dryRun: boolean) {
		this.#refs = dryRun ? new Map() : undefined;
	}

	/** A dry run: the references it would have written, as findImportRefs would find them in a real run. */
	dryRunRefs(refs: readonly string[]): { import_ref: string; user_id: string; import_job_id: string }[] {
		if (this.#refs === undefined) return [];
		return refs.flatMap((ref) => {
			const userId = this.#refs!.get(ref);
			return userId === undefined ? [] : [{ import_ref: ref, user_id: userId, import_job_id: DRY_RUN }];
		});
	}

	wrote(userId: string, refs: readonly string[]): void {
		if (this.#refs !== undefined && this.#refs.size < MAX_TRACKED_USERS) for (const ref of refs) this.#refs.set(ref, userId);
	}

	report(entry: ImportReportEntry): void {
		if (this.entries.length < MAX_REPORT_ENTRIES) this.entries.push(entry);
		else this.truncated = true;
	}

	seen(userId: string): Seen | undefined {
		const known = this.#seen.get(userId);
		if (known === undefined) return undefined;
		if (known === "i" || known === "s") return { outcome: "refused", as: known === "i" ? "invalid" : "skipped" };
		return known === "m" ? { outcome: "matched" } : { outcome: "written" };
	}

	matched(refs: readonly string[]): void {
		for (const ref of refs) if (this.#matched.size < MAX_TRACKED_USERS) this.#matched.add(ref);
	}

	isMatched(ref: string): boolean {
		return this.#matched.has(ref);
	}

	remember(userId: string, seen: Seen): void {
		if (!this.#seen.has(userId) && this.#seen.size >= MAX_TRACKED_USERS) return;
		if (seen.outcome === "refused") this.#seen.set(userId, seen.as === "invalid" ? "i" : "s");
		else this.#seen.set(userId, seen.outcome === "written" ? "w" : "m");
	}
}

interface JobContext {
	deps: ServiceDeps;
	ctx: TenantContext;
	options: ImportOptions & { format: ImportFormat };
	jobId: string | null;
	state: JobState;
	heartbeat: Heartbeat | undefined;
}

const locationOf = (item: ImportRecord | ImportProblem): string => item.location;

/** Refuses every record of the group with the given code for the named ones and "other_record_invalid" for the rest. */
function refuseGroup(job: JobContext, group: Group, refusals: Map<ImportRecord | ImportProblem, { code: string; reason: string }>): void {
	const { state } = job;
	for (const problem of group.problems) {
		state.report({ outcome: "invalid", location: problem.location, code: problem.code, reason: problem.reason, userId: group.userId });
	}
	for (const record of group.records) {
		const refusal = refusals.get(record) ?? { code: "other_record_invalid", reason: "another record of this user is invalid, so none of the user's tokens is imported" };
		state.report({ outcome: "invalid", location: locationOf(record), code: refusal.code, reason: refusal.reason, userId: group.userId });
	}
	state.counts.invalid += group.records.length + group.problems.length;
	state.remember(group.userId, { outcome: "refused", as: "invalid" });
}

interface Candidate {
	group: Group;
	/** The records to write, with their references and labels. */
	planned: { record: ImportRecord; ref: string; weak: boolean; label: string }[];
}

/** The per-record checks, duplicates and the user's earlier outcome in this job: the candidates left to decide. */
function screen(job: JobContext, groups: Group[]): Candidate[] {
	const { state, deps, ctx } = job;
	const candidates: Candidate[] = [];
	for (const group of groups) {
		const prior = state.seen(group.userId);
		if (prior?.outcome === "refused") {
			// The user was refused earlier in this file: a later record does not make them half-imported.
			for (const item of [...group.problems, ...group.records]) {
				state.report({ outcome: prior.as, location: item.location, code: "user_refused_earlier", reason: "an earlier record of this user in the file was not imported", userId: group.userId });
			}
			if (prior.as === "invalid") state.counts.invalid += group.records.length + group.problems.length;
			continue;
		}
		if (prior?.outcome === "written") {
			// Written by an earlier batch of this job, whose transaction is committed: a later record cannot join them
			// atomically, so it is refused on its own (user_split_in_file, invalid). A re-run of the same file finishes
			// the user (decide: the user's factors are all this file's).
			for (const item of [...group.problems, ...group.records]) {
				state.report({ outcome: "invalid", location: item.location, code: "user_split_in_file", reason: `this user's earlier records were written in an earlier batch (users are written ${BATCH_USERS} at a time); run the file again to finish the user, or keep a user's records together`, userId: group.userId });
			}
			state.counts.invalid += group.records.length + group.problems.length;
			continue;
		}
		const refusals = new Map<ImportRecord | ImportProblem, { code: string; reason: string }>();
		const planned: Candidate["planned"] = [];
		for (const record of group.records) {
			const check = checkRecord(record, ctx.settings);
			if (!check.ok) refusals.set(record, { code: check.code, reason: check.reason });
			else planned.push({ record, ref: importRef(deps.keyring, record), weak: check.weak, label: check.label });
		}
		// The same user twice with the same type (or the same reference twice) is ambiguous: which token is theirs?
		const byType = new Map<string, number>();
		const byRef = new Map<string, number>();
		for (const { record, ref } of planned) {
			byType.set(record.type, (byType.get(record.type) ?? 0) + 1);
			byRef.set(ref, (byRef.get(ref) ?? 0) + 1);
		}
		for (const { record, ref } of planned) {
			if ((byType.get(record.type) ?? 0) > 1 || (byRef.get(ref) ?? 0) > 1) {
				refusals.set(record, { code: "duplicate_user", reason: `the user has more than one ${record.type.toUpperCase()} token in the file; which one is theirs is ambiguous` });
			}
		}
		if (group.problems.length > 0 || refusals.size > 0) {
			refuseGroup(job, group, refusals);
			continue;
		}
		candidates.push({ group, planned });
	}
	// One token (the same serial) for two users of the batch: ambiguous, and the unique index would refuse the second.
	const owners = new Map<string, number>();
	for (const candidate of candidates) for (const ref of new Set(candidate.planned.map((planned) => planned.ref))) owners.set(ref, (owners.get(ref) ?? 0) + 1);
	return candidates.filter((candidate) => {
		const shared = candidate.planned.filter((planned) => (owners.get(planned.ref) ?? 0) > 1);
		if (shared.length === 0) return true;
		const refusal = { code: "duplicate_reference", reason: "the same token serial appears for more than one user; which user it belongs to is ambiguous" };
		refuseGroup(job, candidate.group, new Map(shared.map((planned) => [planned.record, refusal] as const)));
		return false;
	});
}

/** The decision for one user, once their references and live factors are known. */
type Decision =
	| { kind: "write"; replace: boolean; completing: boolean; records: Candidate["planned"]; pending: FactorTable[] }
	| { kind: "skip"; code: string; reason: string }
	| { kind: "invalid"; code: string; reason: string };

type Refs = Map<string, { user_id: string; import_job_id: string | null }>;

/**
 * What the references alone decide (no lock needed: the unique index guards them): a reference another user holds,
 * one this job wrote already, every token imported already. Undefined: the user's factors decide (decide below).
 */
function referenceDecision(job: JobContext, candidate: Candidate, refs: Refs): { decision?: Decision; fresh: Candidate["planned"]; alreadyImported: Candidate["planned"] } {
	const jobId = job.jobId ?? DRY_RUN;
	const userId = candidate.group.userId;
	const alreadyImported: Candidate["planned"] = [];
	const fresh: Candidate["planned"] = [];
	for (const planned of candidate.planned) {
		const existing = refs.get(planned.ref);
		if (existing === undefined) fresh.push(planned);
		else if (existing.user_id !== userId) {
			return { decision: { kind: "invalid", code: "reference_in_use", reason: "this token's serial is imported for another user already" }, fresh, alreadyImported };
		} else if (existing.import_job_id === jobId) {
			return { decision: { kind: "invalid", code: "duplicate_user", reason: "the same token appears twice in the file" }, fresh, alreadyImported };
		} else alreadyImported.push(planned);
	}
	if (fresh.length === 0) return { decision: { kind: "skip", code: "already_imported", reason: "every token of this user was imported already (same reference)" }, fresh, alreadyImported };
	return { fresh, alreadyImported };
}

function decide(job: JobContext, candidate: Candidate, refs: Refs, live: FactorTable[]): { decision: Decision; alreadyImported: Candidate["planned"] } {
	const { options } = job;
	const jobId = job.jobId ?? DRY_RUN;
	const byReference = referenceDecision(job, candidate, refs);
	const { fresh, alreadyImported } = byReference;
	if (byReference.decision !== undefined) return { decision: byReference.decision, alreadyImported };
	const active = live.filter((factor) => factor.status === "active");
	const foreign = active.filter((factor) => factor.import_job_id !== jobId);
	const mine = active.filter((factor) => factor.import_job_id === jobId);
	// Untracked users (past MAX_TRACKED_USERS): the database says this job wrote the user in an earlier batch.
	if (mine.length > 0) {
		return { decision: { kind: "invalid", code: "user_split_in_file", reason: "this user's earlier records were written in an earlier batch; run the file again to finish the user" }, alreadyImported };
	}
	// A user an earlier run of this file half-imported (their records were split across batches): every active factor
	// they have is one this file's records name (its reference matched), so writing the rest plants nothing beside a
	// factor of the user's own (R-LC-1 holds), and the re-run finishes them.
	const thisFile = new Set(alreadyImported.map((planned) => planned.ref));
	if (alreadyImported.length + foreign.length > 0 && foreign.every((factor) => {
		const ref = factor.import_ref ?? undefined;
		return ref !== undefined && (thisFile.has(ref) || job.state.isMatched(ref));
	})) {
		return { decision: { kind: "write", replace: false, completing: true, records: fresh, pending: live.filter((factor) => factor.status === "pending") }, alreadyImported };
	}
	if (foreign.length > 0 || alreadyImported.length > 0) {
		if (options.replaceReason === undefined) {
			return { decision: { kind: "skip", code: "user_has_factor", reason: "the user has an active factor already; replacing it needs replace with a reason" }, alreadyImported };
		}
		return { decision: { kind: "write", replace: true, completing: false, records: candidate.planned, pending: [] }, alreadyImported: [] };
	}
	return { decision: { kind: "write", replace: false, completing: false, records: fresh, pending: live.filter((factor) => factor.status === "pending") }, alreadyImported };
}

function factorRow(job: JobContext, userId: string, planned: Candidate["planned"][number], now: number): FactorTable {
	const { deps, ctx, jobId } = job;
	const { record } = planned;
	const id = generateId("fac", deps.random);
	const sealed = { tenant_id: ctx.tenantId, user_id: userId, id };
	const period = record.type === "totp" ? (record.period ?? 30) : null;
	// R-OTP-1: the fence below which no code is accepted (see the module comment).
	// TOTP: max(source's last step, current step): a code the old system accepted after its export (the export is
	// older than the import) must not replay here either.
	const lastUsed =
		record.type === "totp" ? Math.max(record.lastUsedStep ?? -1, Math.floor(now / 1000 / period!)) : record.counter === undefined ? -1 : record.counter - 1;
	return {
		id,
		tenant_id: ctx.tenantId,
		user_id: userId,
		type: record.type,
		status: "active",
		label: planned.label,
		secret_envelope: sealFactorSecret(deps.keyring, deps.random, sealed, record.secret),
		algorithm: record.algorithm,
		digits: record.digits,
		period,
		last_used_step: lastUsed,
		created_at: now,
		expires_at: null,
		activated_at: now,
		last_used_at: null,
		deleted_at: null,
		import_ref: planned.ref,
		import_job_id: jobId,
		weak_secret: planned.weak ? 1 : 0,
		needs_resync: record.type === "hotp" && record.counter === undefined ? 1 : 0,
	};
}

/** Decides and (unless a dry run) writes one batch of users in one transaction. */
async function runBatch(job: JobContext, groups: Group[]): Promise<void> {
	const { deps, ctx, options, jobId, state } = job;
	// Byte-wise (UTF-8) order, as PostgreSQL's COLLATE "C" sorts: every job locks and creates users in one order.
	groups.sort((a, b) => byteOrder(a.userId, b.userId));
	try {
		const candidates = screen(job, groups);
		const work = async (store: Store, write: boolean): Promise<Array<() => void>> => {
			const now = deps.clock().getTime();
			const refList = candidates.flatMap((candidate) => candidate.planned.map((planned) => planned.ref));
			const readRefs = async () => {
				const found = [...(await store.factors.findImportRefs(ctx.tenantId, refList)), ...state.dryRunRefs(refList)];
				return new Map(found.map((row) => [row.import_ref, row] as const));
			};
			const userIds = candidates.map((candidate) => candidate.group.userId);
			let refs: Refs;
			if (write) {
				// PostgreSQL: the existing users' rows are locked first, in byte order (lockMany: COLLATE "C", as the
				// groups are sorted), and only then are the references read; the new rows are then created in the same
				// order. Two jobs over overlapping users so take their locks in one order and cannot deadlock each other.
				await store.users.lockMany(ctx.tenantId, userIds);
				// Only users the references leave open get a row: a user refused here is not created (the dry run says the same).
				const before = await readRefs();
				const open = candidates.filter((candidate) => referenceDecision(job, candidate, before).decision === undefined);
				await store.users.ensureMany(ctx.tenantId, open.map((candidate) => candidate.group.userId), now);
				// Read again: a concurrent job's references for users created just now are committed by now (our insert
				// waited for theirs).
				refs = await readRefs();
			} else refs = await readRefs();
			const liveByUser = new Map<string, FactorTable[]>();
			for (const factor of await store.factors.listLiveForUsers(ctx.tenantId, userIds)) {
				const list = liveByUser.get(factor.user_id) ?? [];
				list.push(factor);
				liveByUser.set(factor.user_id, list);
			}
			// What changes the job's state happens only once the batch committed (a rollback leaves it as it was).
			const afterwards: Array<() => void> = [];
			const rows: FactorTable[] = [];
			const imported: { userId: string; rows: FactorTable[]; replace: boolean }[] = [];
			for (const candidate of candidates) {
				const { userId } = candidate.group;
				const { decision, alreadyImported } = decide(job, candidate, refs, liveByUser.get(userId) ?? []);
				for (const planned of alreadyImported) {
					afterwards.push(() => state.report({ outcome: "skipped", location: planned.record.location, code: "already_imported", reason: "this token was imported already (same reference)", userId }));
				}
				if (decision.kind === "invalid") {
					afterwards.push(() => refuseGroup(job, candidate.group, new Map(candidate.planned.map((planned) => [planned.record, decision] as const))));
					continue;
				}
				if (decision.kind === "skip") {
					afterwards.push(() => {
						state.counts.skipped += 1;
						if (decision.code !== "already_imported") {
							state.report({ outcome: "skipped", location: candidate.group.records[0]!.location, code: decision.code, reason: decision.reason, userId });
						}
						// Every record imported already: a later record of the user (a split user) may still finish them.
						if (decision.code === "already_imported") {
							state.matched(alreadyImported.map((planned) => planned.ref));
							state.remember(userId, { outcome: "matched" });
						} else state.remember(userId, { outcome: "refused", as: "skipped" });
					});
					continue;
				}
				if (write && decision.replace) await resetFactorsInTransaction(store, deps, ctx, userId, options.replaceReason!, now);
				if (write && decision.pending.length > 0) {
					// As at a first activation (services/factors.ts): pending factors enrolled without a proof are void now (R-LC-1).
					const removed = await store.factors.discardPending(ctx.tenantId, userId, decision.pending.map((factor) => factor.id));
					for (const factorId of removed) {
						await appendEvent(store, deps.random, now, { tenantId: ctx.tenantId, userId, factorId, type: "factor.deleted", data: { by: "system", was: "pending", reason: "superseded" } });
					}
				}
				const userRows = write ? decision.records.map((planned) => factorRow(job, userId, planned, now)) : [];
				rows.push(...userRows);
				imported.push({ userId, rows: userRows, replace: decision.replace });
				afterwards.push(() => {
					// A user completed (a re-run of a split user) was counted created by the run that began them.
					if (decision.replace) state.counts.users_replaced += 1;
					else if (!decision.completing) state.counts.users_created += 1;
					state.counts.factors_created += decision.records.length;
					state.counts.weak_secret += decision.records.filter((planned) => planned.weak).length;
					state.remember(userId, { outcome: "written" });
					state.wrote(userId, decision.records.map((planned) => planned.ref));
				});
			}
			if (write) {
				await store.factors.insertMany(rows);
				const events: NewEvent[] = [];
				for (const { userId, rows: userRows, replace } of imported) {
					for (const row of userRows) {
						events.push({ tenantId: ctx.tenantId, userId, factorId: row.id, type: "factor.created", data: { type: row.type } });
						events.push({ tenantId: ctx.tenantId, userId, factorId: row.id, type: "factor.activated", data: { type: row.type } });
					}
					events.push({
						tenantId: ctx.tenantId,
						userId,
						type: "factor.imported",
						data: {
							job_id: jobId,
							actor_key_id: ctx.keyId,
							factor_ids: userRows.map((row) => row.id),
							types: [...new Set(userRows.map((row) => row.type))],
							weak_secret: userRows.some((row) => row.weak_secret === 1),
							needs_resync: userRows.some((row) => row.needs_resync === 1),
							replaced: replace,
						},
					});
				}
				await appendEvents(store, deps.random, now, events);
			}
			return afterwards;
		};
		if (options.dryRun) {
			for (const apply of await work(deps.store, false)) apply();
		} else {
			// A concurrent job (PostgreSQL) may still win a race: a unique violation (the same serial for another user) or
			// a deadlock detected ends the transaction; the batch is decided again once, seeing what the other committed.
			const transaction = async () => {
				try {
					return await deps.store.transaction((tx) => work(tx, true));
				} catch (error) {
					if (!retryable(error)) throw error;
					return deps.store.transaction((tx) => work(tx, true));
				}
			};
			const afterwards = job.heartbeat === undefined ? await transaction() : await job.heartbeat.exclusive(transaction);
			for (const apply of afterwards) apply();
			// The job's counts once this batch is in: what GET /v1/imports/{id} polls.
			await saveProgress(job);
		}
		state.usersDecided += groups.length;
	} finally {
		for (const group of groups) for (const record of group.records) record.secret.fill(0);
	}
}

/** PostgreSQL's unique_violation (23505) and deadlock_detected (40P01). */
function retryable(error: unknown): boolean {
	for (let cause = error, depth = 0; typeof cause === "object" && cause !== null && depth < 3; cause = (cause as { cause?: unknown }).cause, depth += 1) {
		const code = (cause as { code?: unknown }).code;
		if (code === "23505" || code === "40P01") return true;
	}
	return false;
}

function byteOrder(a: string, b: string): number {
	return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** The job row's counts and entries as they stand (after a committed batch): what a poll of the job sees. */
async function saveProgress(job: JobContext): Promise<void> {
	if (job.jobId === null) return;
	const { state } = job;
	await job.deps.store.importJobs.update(job.ctx.tenantId, job.jobId, {
		counts: JSON.stringify(state.counts),
		entries: JSON.stringify(state.entries),
		entries_truncated: state.truncated ? 1 : 0,
		updated_at: job.deps.clock().getTime(),
	});
}

/**
 * Imports the items of one file (already read by a token-file reader). Admin only. A TokenFileError thrown by the
 * reader ends the job "failed" with the fault: the batches committed before it stay, each user whole; the users of
 * the batch being gathered are not written (their later records may have been past the fault).
 */
export async function importItems(
	deps: ServiceDeps,
	ctx: TenantContext,
	items: AsyncIterable<ImportItem>,
	options: ImportOptions & { format: ImportFormat },
	onProgress?: (progress: ImportProgress) => void,
): Promise<ImportReport> {
	requireAdmin(ctx);
	if (options.replaceReason !== undefined && options.replaceReason.trim().length === 0) throw fieldError("proof_required", "/replace_reason", "must not be blank");
	const startedAt = deps.clock().getTime();
	const jobId = options.dryRun ? null : generateId("imp", deps.random);
	const state = new JobState(options.dryRun);
	const job: JobContext = { deps, ctx, options: { ...options, ...(options.replaceReason === undefined ? {} : { replaceReason: options.replaceReason.trim() }) }, jobId, state, heartbeat: undefined };
	if (jobId !== null) {
		await deps.store.importJobs.insert({
			id: jobId,
			tenant_id: ctx.tenantId,
			status: "running",
			format: options.format,
			source_name: options.sourceName ?? null,
			counts: JSON.stringify(state.counts),
			entries: "[]",
			entries_truncated: 0,
			error: null,
			actor_key_id: ctx.keyId,
			started_at: startedAt,
			updated_at: startedAt,
			finished_at: null,
		});
		job.heartbeat = new Heartbeat(() => deps.store.importJobs.update(ctx.tenantId, jobId, { updated_at: deps.clock().getTime() }));
	}
	const progress = () => onProgress?.({ records: state.counts.records, users: state.usersDecided, bytes: 0 });
	let pending = new Map<string, Group>();
	let error: JobError | undefined;
	const iterator = items[Symbol.asyncIterator]();
	// The caller's signal stops the job even while the reader waits for input (a pipe, a slow upload).
	const { signal } = options;
	// Not Promise.race with one long-lived "interrupted" promise: every race leaves a reaction on it until it settles,
	// so a job of 100,000 records kept 100,000 of them and their results (the live heap grew by about 1 KB a user, to
	// a 360 MB peak RSS, measured). Each wait gets its own rejecter, which the signal calls and which goes with the wait.
	let wake: ((error: Interrupted) => void) | undefined;
	signal?.addEventListener("abort", () => wake?.(new Interrupted()), { once: true });
	const nextItem = (): Promise<IteratorResult<ImportItem>> =>
		new Promise<IteratorResult<ImportItem>>((resolve, reject) => {
			if (signal?.aborted === true) return reject(new Interrupted());
			wake = reject;
			iterator.next().then(resolve, reject);
		}).finally(() => {
			wake = undefined;
		});
	try {
		for (;;) {
			const next = signal === undefined ? await iterator.next() : await nextItem();
			if (next.done === true) break;
			const item = next.value;
			state.counts.records += 1;
			const userId = item.kind === "record" ? item.record.userId : item.problem.userId;
			if (userId === undefined) {
				// A record whose user the reader could not tell: reported, and no user gets it.
				state.counts.invalid += 1;
				if (item.kind === "problem") state.report({ outcome: "invalid", ...item.problem });
				continue;
			}
			let group = pending.get(userId);
			if (group === undefined) {
				if (pending.size >= BATCH_USERS) {
					if (signal?.aborted === true) throw new Interrupted();
					const batch = [...pending.values()];
					pending = new Map();
					await runBatch(job, batch);
					progress();
				}
				group = { userId, records: [], problems: [] };
				pending.set(userId, group);
			}
			if (item.kind === "record") group.records.push(item.record);
			else group.problems.push(item.problem);
		}
		if (signal?.aborted === true) throw new Interrupted();
		if (pending.size > 0) await runBatch(job, [...pending.values()]);
	} catch (thrown) {
		// The users still being gathered are not written: their secrets go now (R-ST-1).
		for (const group of pending.values()) for (const record of group.records) record.secret.fill(0);
		// The source is closed whatever stopped the job (a manual loop does not do it as for-await would): the token-file
		// reader's thread ends and zeroes what it had read ahead; a source that threw is finished already.
		void iterator.return?.()?.catch(() => undefined);
		error = stopOf(thrown);
		if (error === undefined) {
			// Unexpected: logged here (without the error's data, which may hold a record) before the job ends.
			deps.log?.warn({ job_id: jobId, error: thrown instanceof Error ? thrown.name : typeof thrown, message: thrown instanceof Error ? thrown.message : undefined }, "import stopped on an internal error");
			await job.heartbeat?.stop();
			await finish(job, startedAt, { code: "internal_error", reason: "the import stopped on an internal error; see the server log", location: "" }).catch((failed: unknown) => {
				deps.log?.warn({ job_id: jobId, error: failed instanceof Error ? failed.message : String(failed) }, "import job could not be marked failed; a later read marks it interrupted");
			});
			throw thrown;
		}
	}
	await job.heartbeat?.stop();
	progress();
	return finish(job, startedAt, error);
}

/**
 * Why a job stopped, when it is not the service's fault: the file's (TokenFileError), the caller's signal, or the
 * upload's (the route's bounds pass errors whose code is in the error catalog: import_too_large, import_timeout; a
 * client that went away). Undefined: an internal error.
 */
function stopOf(thrown: unknown): JobError | undefined {
	if (thrown instanceof TokenFileError) return { code: thrown.code, reason: thrown.reason, location: thrown.location };
	if (thrown instanceof Interrupted) return INTERRUPTED;
	const code = typeof thrown === "object" && thrown !== null && "code" in thrown ? (thrown as { code: unknown }).code : undefined;
	if (code === "import_too_large") return { code, reason: "the upload is larger than TWOFOLD_IMPORT_MAX_BYTES; the batches committed before it stay", location: "" };
	if (code === "import_timeout") return { code, reason: "the upload was too slow (TWOFOLD_IMPORT_IDLE_MS or TWOFOLD_IMPORT_MAX_MS); the batches committed before it stay", location: "" };
	if (code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || (thrown instanceof Error && thrown.message === "aborted")) {
		return { code: "aborted", reason: "the client closed the upload before its end; the batches committed before it stay", location: "" };
	}
	return undefined;
}

/** The final state: the job row and its import.completed / import.failed event in one transaction. */
async function finish(job: JobContext, startedAt: number, error: JobError | undefined): Promise<ImportReport> {
	const { deps, ctx, jobId, state, options } = job;
	const finishedAt = deps.clock().getTime();
	if (jobId !== null) {
		const ended = await deps.store.transaction(async (tx) => {
			// Only a running job: a read that found it stale ended it already ("interrupted"), with its event.
			const ended = await tx.importJobs.endIfRunning(ctx.tenantId, jobId, {
				status: error === undefined ? "completed" : "failed",
				counts: JSON.stringify(state.counts),
				entries: JSON.stringify(state.entries),
				entries_truncated: state.truncated ? 1 : 0,
				error: error === undefined ? null : JSON.stringify(error),
				updated_at: finishedAt,
				finished_at: finishedAt,
			});
			if (!ended) return false;
			await appendEvent(tx, deps.random, finishedAt, {
				tenantId: ctx.tenantId,
				type: error === undefined ? "import.completed" : "import.failed",
				data: { job_id: jobId, actor_key_id: ctx.keyId, format: options.format, counts: state.counts, ...(error === undefined ? {} : { error }) },
			});
			return true;
		});
		if (!ended) {
			const row = await deps.store.importJobs.find(ctx.tenantId, jobId);
			if (row !== undefined) return reportOf(row);
		}
	}
	return {
		job_id: jobId,
		status: error !== undefined ? "failed" : options.dryRun ? "dry_run" : "completed",
		format: options.format,
		counts: { ...state.counts },
		entries: [...state.entries],
		entries_truncated: state.truncated,
		...(error === undefined ? {} : { error }),
		started_at: new Date(startedAt).toISOString(),
		finished_at: new Date(finishedAt).toISOString(),
	};
}

/**
 * Imports one file as it arrives (the CLI's file or stdin, the API's request body): detects the format from the first
 * bytes when it is "auto" (an undetectable file is import_file_invalid, before any job exists), reads it with the
 * format's streaming reader and imports its items (importItems). Progress counts the bytes consumed.
 */
export async function runImport(
	deps: ServiceDeps,
	ctx: TenantContext,
	input: AsyncIterable<Uint8Array>,
	options: ImportOptions,
	onProgress?: (progress: ImportProgress) => void,
): Promise<ImportReport> {
	requireAdmin(ctx);
	const iterator = input[Symbol.asyncIterator]();
	// The first chunks, up to what detection looks at, are read ahead and then handed to the reader first.
	const head: Uint8Array[] = [];
	let headBytes = 0;
	let ended = false;
	if (options.format === "auto") {
		while (headBytes < DETECT_BYTES) {
			const next = await iterator.next();
			if (next.done === true) {
				ended = true;
				break;
			}
			head.push(next.value);
			headBytes += next.value.byteLength;
		}
	}
	const format = options.format === "auto" ? detectFormat(concat(head, Math.min(headBytes, DETECT_BYTES))) : options.format;
	if (format === undefined) throw new ServiceError("import_file_invalid");
	let bytes = 0;
	async function* counted(): AsyncGenerator<Uint8Array> {
		for (const chunk of head) {
			bytes += chunk.byteLength;
			yield chunk;
		}
		head.length = 0;
		if (ended) return;
		for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
			bytes += next.value.byteLength;
			yield next.value;
		}
	}
	const items = readTokenFileOnThread(counted(), format, options);
	return importItems(deps, ctx, items, { ...options, format }, onProgress === undefined ? undefined : (progress) => onProgress({ ...progress, bytes }));
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
	const out = new Uint8Array(length);
	let offset = 0;
	for (const chunk of chunks) {
		if (offset >= length) break;
		const part = chunk.subarray(0, length - offset);
		out.set(part, offset);
		offset += part.byteLength;
	}
	return out;
}

function reportOf(row: ImportJobTable): ImportReport {
	const report: ImportReport = {
		job_id: row.id,
		status: row.status,
		format: row.format as ImportFormat,
		counts: JSON.parse(row.counts) as ImportCounts,
		entries: JSON.parse(row.entries) as ImportReportEntry[],
		entries_truncated: Number(row.entries_truncated) === 1,
		started_at: new Date(Number(row.started_at)).toISOString(),
		finished_at: row.finished_at === null ? null : new Date(Number(row.finished_at)).toISOString(),
	};
	if (row.error !== null) report.error = JSON.parse(row.error) as NonNullable<ImportReport["error"]>;
	return report;
}

/** GET /v1/imports/{id}: a job's report, with its progress while it runs. Another tenant's job is not found (V-17). */
export async function getImportJob(deps: ServiceDeps, ctx: TenantContext, jobId: string): Promise<ImportReport> {
	requireAdmin(ctx);
	const row = await deps.store.importJobs.find(ctx.tenantId, jobId);
	if (row === undefined) throw new ServiceError("import_not_found");
	return reportOf(await unlessStale(deps, row));
}

/**
 * A job still "running" whose heartbeat stopped STALE_MS ago died with its process (Ctrl-C, SIGTERM, OOM, a restart
 * during an upload): it is ended failed ("interrupted"), with its import.failed event. The conditional update decides
 * which of several readers (or the job itself, if it was only paused) ends it, so the event is appended once.
 */
async function unlessStale(deps: ServiceDeps, row: ImportJobTable): Promise<ImportJobTable> {
	const now = deps.clock().getTime();
	if (row.status !== "running" || Number(row.updated_at) >= now - STALE_MS) return row;
	const changes = { status: "failed" as const, error: JSON.stringify(INTERRUPTED), updated_at: now, finished_at: now };
	await deps.store.transaction(async (tx) => {
		if (!(await tx.importJobs.endIfRunning(row.tenant_id, row.id, changes, now - STALE_MS))) return;
		await appendEvent(tx, deps.random, now, {
			tenantId: row.tenant_id,
			type: "import.failed",
			data: { job_id: row.id, actor_key_id: row.actor_key_id, format: row.format, counts: JSON.parse(row.counts) as ImportCounts, error: INTERRUPTED },
		});
	});
	return (await deps.store.importJobs.find(row.tenant_id, row.id)) ?? row;
}

/** GET /v1/imports: the tenant's recent jobs, newest first (running ones with their progress). */
export async function listImportJobs(deps: ServiceDeps, ctx: TenantContext, options: { limit: number }): Promise<ImportReport[]> {
	requireAdmin(ctx);
	const limit = Math.min(Math.max(Math.trunc(options.limit) || 20, 1), 100);
	const rows = await deps.store.importJobs.list(ctx.tenantId, limit);
	const current: ImportJobTable[] = [];
	for (const row of rows) current.push(await unlessStale(deps, row));
	return current.map(reportOf);
}
