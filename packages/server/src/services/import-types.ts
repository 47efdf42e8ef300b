import type { ImportFormat, ImportProblem, ReadOptions } from "../token-files/import-record.js";

/**
 * The import service's interface (issue 17), shared by the CLI (cli/import.ts), the admin API
 * (http/routes/imports.ts) and the SDK: what a job is asked to do, how it reports progress, and its report.
 */

export interface ImportOptions extends ReadOptions {
	/** Named, or detected from the first bytes. */
	format: ImportFormat | "auto";
	/** Parse and validate everything, report what would happen, write nothing (not even the job row). */
	dryRun: boolean;
	/**
	 * Replace the factors of users who already have an active one, through the admin-reset path (R-LC-1): audited with
	 * this reason, the user's application notified. Without it such users are skipped ("user_has_factor").
	 */
	replaceReason?: string;
	/** What the operator called the input (a file name), recorded on the job; never a path's contents. */
	sourceName?: string;
	/** Aborted (the CLI on SIGINT/SIGTERM): the job stops and ends failed, "interrupted" (issue 17 review, item 2). */
	signal?: AbortSignal;
}

/** Reported as the job runs: at least every batch, and at the end. */
export interface ImportProgress {
	/** Records (tokens) read so far, valid or not. */
	records: number;
	/** Users decided so far (created, skipped or refused). */
	users: number;
	/** Bytes of the input consumed so far. */
	bytes: number;
}

export type ImportOutcome = "created" | "replaced" | "skipped" | "invalid";

/** One line of the report per user or record that was not simply created (and, with `detail`, also created ones). */
export interface ImportReportEntry extends ImportProblem {
	outcome: ImportOutcome;
}

export interface ImportCounts {
	records: number;
	users_created: number;
	users_replaced: number;
	factors_created: number;
	/** Users skipped: the same import reference exists already (a re-run), or the user has an active factor. */
	skipped: number;
	/** Records refused (a reader's problem, or a secret under 80 bits, …): the user they belong to is not written. */
	invalid: number;
	/** Factors created with a secret of 80–127 bits (R-OTP-4 as amended): flagged in their metadata too. */
	weak_secret: number;
}

export interface ImportReport {
	/** Null for a dry run: nothing was written, not even the job. */
	job_id: string | null;
	/** "running": a job read back while it runs (GET /v1/imports/{id}); its counts are those of the batches committed so far. */
	status: "running" | "completed" | "failed" | "dry_run";
	format: ImportFormat;
	counts: ImportCounts;
	/** Every record or user not created, with where and why; capped (the first 1,000), `entries_truncated` says so. */
	entries: ImportReportEntry[];
	entries_truncated: boolean;
	/** When status is "failed": the file fault that stopped the job (TokenFileError), after `counts` were committed. */
	error?: { code: string; reason: string; location: string };
	started_at: string;
	/** Null while the job runs. */
	finished_at: string | null;
}
