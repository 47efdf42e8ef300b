import { fieldError, ServiceError } from "../contract/service-error.js";
import { generateId } from "../core/id.js";
import { sealFactorSecret } from "../factors/factor-secret.js";
import type { Store } from "../store/store.js";
import type { FactorTable, ImportJobTable } from "../store/tables.js";
import { DETECT_BYTES, detectFormat } from "../token-files/detect-format.js";
import { type ImportFormat, type ImportItem, type ImportProblem, type ImportRecord, TokenFileError } from "../token-files/import-record.js";
import { readTokenFile } from "../token-files/read-token-file.js";
import type { ServiceDeps } from "./deps.js";
import { appendEvent, appendEvents, type NewEvent } from "./events.js";
import { checkRecord } from "./import-decisions.js";
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
 * - Users are decided in batches of BATCH_USERS, one write transaction per batch; each user's factors are written
 *   all or none: a user with any invalid record gets nothing, and is reported.
 * - R-LC-1: only into users without an active factor; otherwise skipped (user_has_factor), or, with a replace
 *   reason, reset through the admin-reset path first (resetFactorsInTransaction), in the same transaction.
 * - The decision and the insert are under the users' row locks (PostgreSQL FOR UPDATE in id order; SQLite's one
 *   writer), so an enrollment racing the job is either seen (the user is skipped) or waits: it never fails the batch.
 * - Idempotent: each factor has an import reference (import-ref.ts), unique among the tenant's live factors; a
 *   record whose reference exists is skipped as already imported.
 * - Replay fences (R-OTP-1): TOTP last_used_step is the source's last used step, else the current step (a code the
 *   old system accepted cannot be used again here); HOTP last_used_step is counter - 1 (the record's counter is the
 *   NEXT one), else the factor needs resynchronization before any code verifies.
 * - Secrets are sealed as enrollment seals them (factor-secret.ts, R-ST-1/R-ST-2) and zeroed once used; reports,
 *   job rows, events and logs carry locations, codes and reasons, never a secret (R-ST-4).
 */

export const BATCH_USERS = 500;
/** The report lists the first ones; entries_truncated says when there were more. */
export const MAX_REPORT_ENTRIES = 1000;
/**
 * A user's records may be far apart in a file. Outcomes of users already decided are remembered (up to this many),
 * so a later record joins a user written by this job, or is refused with a user refused before. Past the bound, the
 * database decides (factors written by this job carry its id); only a dry run then checks less than a real run.
 */
export const MAX_TRACKED_USERS = 200_000;

type Seen = { outcome: "written"; types: Set<string> } | { outcome: "refused"; as: "invalid" | "skipped" };

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
	 * Compact, as 100,000 users must fit in 250 MB: "i" refused as invalid, "s" skipped, "w<types>" written with these
	 * types ("wtotp", "wtotp,hotp"). A dry run also keeps the references it would have written (a real run finds them
	 * in the database: its factors carry the job id).
	 */
	readonly #seen = new Map<string, string>();
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
		return { outcome: "written", types: new Set(known.slice(1).split(",")) };
	}

	remember(userId: string, seen: Seen): void {
		if (!this.#seen.has(userId) && this.#seen.size >= MAX_TRACKED_USERS) return;
		if (seen.outcome === "refused") this.#seen.set(userId, seen.as === "invalid" ? "i" : "s");
		else this.#seen.set(userId, `w${[...seen.types].join(",")}`);
	}
}

interface JobContext {
	deps: ServiceDeps;
	ctx: TenantContext;
	options: ImportOptions & { format: ImportFormat };
	jobId: string | null;
	state: JobState;
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
	/** Written by this job in an earlier batch: these records join them. */
	joining: Extract<Seen, { outcome: "written" }> | undefined;
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
			const earlier = prior?.outcome === "written" && prior.types.has(record.type);
			if ((byType.get(record.type) ?? 0) > 1 || (byRef.get(ref) ?? 0) > 1 || earlier) {
				refusals.set(record, { code: "duplicate_user", reason: `the user has more than one ${record.type.toUpperCase()} token in the file; which one is theirs is ambiguous` });
			}
		}
		if (group.problems.length > 0 || refusals.size > 0) {
			if (prior?.outcome === "written") {
				// Their first tokens are committed already: only these records are refused, and reported.
				for (const problem of group.problems) state.report({ outcome: "invalid", ...problem, userId: group.userId });
				for (const record of group.records) {
					const refusal = refusals.get(record) ?? { code: "other_record_invalid", reason: "another record of this user is invalid" };
					state.report({ outcome: "invalid", location: record.location, ...refusal, userId: group.userId });
				}
				state.counts.invalid += group.records.length + group.problems.length;
			} else refuseGroup(job, group, refusals);
			continue;
		}
		candidates.push({ group, planned, joining: prior?.outcome === "written" ? prior : undefined });
	}
	// One token (the same serial) for two users of the batch: ambiguous, and the unique index would refuse the second.
	const owners = new Map<string, number>();
	for (const candidate of candidates) for (const ref of new Set(candidate.planned.map((planned) => planned.ref))) owners.set(ref, (owners.get(ref) ?? 0) + 1);
	return candidates.filter((candidate) => {
		const shared = candidate.planned.filter((planned) => (owners.get(planned.ref) ?? 0) > 1);
		if (shared.length === 0) return true;
		const refusal = { code: "duplicate_reference", reason: "the same token serial appears for more than one user; which user it belongs to is ambiguous" };
		if (candidate.joining !== undefined) {
			for (const planned of candidate.planned) state.report({ outcome: "invalid", location: planned.record.location, ...refusal, userId: candidate.group.userId });
			state.counts.invalid += candidate.planned.length;
		} else refuseGroup(job, candidate.group, new Map(shared.map((planned) => [planned.record, refusal] as const)));
		return false;
	});
}

/** The decision for one user, once their references and live factors are known. */
type Decision =
	| { kind: "write"; replace: boolean; records: Candidate["planned"]; pending: FactorTable[] }
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
	// Untracked users (past MAX_TRACKED_USERS): the database says which types this job gave them.
	if (fresh.some((planned) => mine.some((factor) => factor.type === planned.record.type))) {
		return { decision: { kind: "invalid", code: "duplicate_user", reason: "the user has more than one token of this type in the file" }, alreadyImported };
	}
	if (foreign.length > 0 || alreadyImported.length > 0) {
		if (options.replaceReason === undefined || candidate.joining !== undefined) {
			return { decision: { kind: "skip", code: "user_has_factor", reason: "the user has an active factor already; replacing it needs replace with a reason" }, alreadyImported };
		}
		return { decision: { kind: "write", replace: true, records: candidate.planned, pending: [] }, alreadyImported: [] };
	}
	return { decision: { kind: "write", replace: false, records: fresh, pending: live.filter((factor) => factor.status === "pending") }, alreadyImported };
}

function factorRow(job: JobContext, userId: string, planned: Candidate["planned"][number], now: number): FactorTable {
	const { deps, ctx, jobId } = job;
	const { record } = planned;
	const id = generateId("fac", deps.random);
	const sealed = { tenant_id: ctx.tenantId, user_id: userId, id };
	const period = record.type === "totp" ? (record.period ?? 30) : null;
	// R-OTP-1: the fence below which no code is accepted (see the module comment).
	const lastUsed =
		record.type === "totp" ? (record.lastUsedStep ?? Math.floor(now / 1000 / period!)) : record.counter === undefined ? -1 : record.counter - 1;
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
	groups.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
	try {
		const candidates = screen(job, groups);
		const work = async (store: Store, write: boolean): Promise<Array<() => void>> => {
			const now = deps.clock().getTime();
			const refList = candidates.flatMap((candidate) => candidate.planned.map((planned) => planned.ref));
			const found = [...(await store.factors.findImportRefs(ctx.tenantId, refList)), ...state.dryRunRefs(refList)];
			const refs = new Map(found.map((row) => [row.import_ref, row] as const));
			const userIds = candidates.map((candidate) => candidate.group.userId);
			if (write) {
				// Only users the references leave open get a row: a user refused here is not created (the dry run says the same).
				const open = candidates.filter((candidate) => referenceDecision(job, candidate, refs).decision === undefined);
				await store.users.ensureMany(ctx.tenantId, open.map((candidate) => candidate.group.userId), now);
				await store.users.lockMany(ctx.tenantId, userIds);
			}
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
					afterwards.push(() => {
						const refusals = new Map(candidate.planned.map((planned) => [planned.record, decision] as const));
						if (candidate.joining !== undefined) {
							for (const planned of candidate.planned) state.report({ outcome: "invalid", location: planned.record.location, code: decision.code, reason: decision.reason, userId });
							state.counts.invalid += candidate.planned.length;
						} else refuseGroup(job, candidate.group, refusals);
					});
					continue;
				}
				if (decision.kind === "skip") {
					afterwards.push(() => {
						if (candidate.joining === undefined) state.counts.skipped += 1;
						if (decision.code !== "already_imported") {
							state.report({ outcome: "skipped", location: candidate.group.records[0]!.location, code: decision.code, reason: decision.reason, userId });
						}
						if (candidate.joining === undefined) state.remember(userId, { outcome: "refused", as: "skipped" });
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
					if (candidate.joining === undefined) {
						if (decision.replace) state.counts.users_replaced += 1;
						else state.counts.users_created += 1;
					}
					state.counts.factors_created += decision.records.length;
					state.counts.weak_secret += decision.records.filter((planned) => planned.weak).length;
					const seen = candidate.joining ?? { outcome: "written" as const, types: new Set<string>() };
					for (const planned of decision.records) seen.types.add(planned.record.type);
					state.remember(userId, seen);
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
			const afterwards = await deps.store.transaction((tx) => work(tx, true));
			for (const apply of afterwards) apply();
			// The job's counts once this batch is in: what GET /v1/imports/{id} polls.
			await saveProgress(job);
		}
		state.usersDecided += groups.length;
	} finally {
		for (const group of groups) for (const record of group.records) record.secret.fill(0);
	}
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
	const job: JobContext = { deps, ctx, options: { ...options, ...(options.replaceReason === undefined ? {} : { replaceReason: options.replaceReason.trim() }) }, jobId, state };
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
	}
	const progress = () => onProgress?.({ records: state.counts.records, users: state.usersDecided, bytes: 0 });
	let pending = new Map<string, Group>();
	let error: { code: string; reason: string; location: string } | undefined;
	try {
		for await (const item of items) {
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
		if (pending.size > 0) await runBatch(job, [...pending.values()]);
	} catch (thrown) {
		// The users still being gathered are not written: their secrets go now (R-ST-1).
		for (const group of pending.values()) for (const record of group.records) record.secret.fill(0);
		if (!(thrown instanceof TokenFileError)) {
			await finish(job, startedAt, { code: "internal_error", reason: "the import stopped on an internal error; see the server log", location: "" }).catch(() => undefined);
			throw thrown;
		}
		error = { code: thrown.code, reason: thrown.reason, location: thrown.location };
	}
	progress();
	return finish(job, startedAt, error);
}

/** The final state: the job row and its import.completed / import.failed event in one transaction. */
async function finish(job: JobContext, startedAt: number, error: { code: string; reason: string; location: string } | undefined): Promise<ImportReport> {
	const { deps, ctx, jobId, state, options } = job;
	const finishedAt = deps.clock().getTime();
	if (jobId !== null) {
		await deps.store.transaction(async (tx) => {
			await tx.importJobs.update(ctx.tenantId, jobId, {
				status: error === undefined ? "completed" : "failed",
				counts: JSON.stringify(state.counts),
				entries: JSON.stringify(state.entries),
				entries_truncated: state.truncated ? 1 : 0,
				error: error === undefined ? null : JSON.stringify(error),
				updated_at: finishedAt,
				finished_at: finishedAt,
			});
			await appendEvent(tx, deps.random, finishedAt, {
				tenantId: ctx.tenantId,
				type: error === undefined ? "import.completed" : "import.failed",
				data: { job_id: jobId, actor_key_id: ctx.keyId, format: options.format, counts: state.counts, ...(error === undefined ? {} : { error }) },
			});
		});
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
	const items = readTokenFile(counted(), format, options);
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
	return reportOf(row);
}

/** GET /v1/imports: the tenant's recent jobs, newest first (running ones with their progress). */
export async function listImportJobs(deps: ServiceDeps, ctx: TenantContext, options: { limit: number }): Promise<ImportReport[]> {
	requireAdmin(ctx);
	const limit = Math.min(Math.max(Math.trunc(options.limit) || 20, 1), 100);
	return (await deps.store.importJobs.list(ctx.tenantId, limit)).map(reportOf);
}
