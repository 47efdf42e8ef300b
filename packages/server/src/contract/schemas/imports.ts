import { Type } from "@sinclair/typebox";
import { Reason, Timestamp } from "./common.js";

/**
 * The formats POST /v1/imports reads (docs/import-formats.md), or "auto": detected from the first bytes. Spelled out:
 * the contract does not import the readers (token-files/import-record.ts IMPORT_FORMATS); http/routes/imports.ts
 * checks at compile time that the two lists are the same.
 */
export const IMPORT_FORMAT_NAMES = ["otpauth", "oath-csv", "pskc", "pi-csv", "authelia"] as const;
const Format = Type.Union([Type.Literal("auto"), ...IMPORT_FORMAT_NAMES.map((format) => Type.Literal(format))], {
	description: "The file's format; auto (the default) detects it from the first bytes and refuses the file when unsure.",
});

/**
 * The query of POST /v1/imports. The PSKC passphrase and key are never here (a URL is logged by proxies): they travel in
 * the Twofold-PSKC-Passphrase and Twofold-PSKC-Key headers (issue 17).
 */
export const ImportQuery = Type.Object(
	{
		format: Type.Optional(Format),
		dry_run: Type.Optional(Type.Union([Type.Literal("true"), Type.Literal("false")], { description: "true: read and check everything, write nothing, report what would happen." })),
		user_column: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "CSV formats and column-prefixed otpauth lists: the column with the user id (header name or 1-based index)." })),
		user_from: Type.Optional(Type.Union([Type.Literal("label"), Type.Literal("issuer-label")], { description: "otpauth lists without a user column: the user id is the label's account part, or issuer:account." })),
		replace_reason: Type.Optional(Type.Intersect([Reason], { description: "Replace the factors of users who already have an active one, through the admin reset (audited with this reason, the user's application notified). Without it such users are skipped." })),
	},
	{ additionalProperties: false },
);

export const ImportParams = Type.Object({ import_id: Type.String({ maxLength: 64 }) });
export const ImportListQuery = Type.Object({ limit: Type.Optional(Type.String({ pattern: "^(?:[1-9][0-9]?|100)$", description: "At most this many jobs, newest first (1-100, default 20)." })) }, { additionalProperties: false });

const Counts = Type.Object({
	records: Type.Integer({ description: "Records (tokens) read, valid or not." }),
	users_created: Type.Integer(),
	users_replaced: Type.Integer(),
	factors_created: Type.Integer(),
	skipped: Type.Integer({ description: "Users skipped: imported already (the same reference), or holding an active factor." }),
	invalid: Type.Integer({ description: "Records refused; the user they belong to is not written." }),
	weak_secret: Type.Integer({ description: "Factors created with a secret of 80-127 bits (R-OTP-4 as amended)." }),
});

const Entry = Type.Object({
	outcome: Type.Union([Type.Literal("created"), Type.Literal("replaced"), Type.Literal("skipped"), Type.Literal("invalid")]),
	location: Type.String({ description: "Where in the file: a line, a KeyPackage." }),
	code: Type.String({ description: "A stable reason code (docs/import.md)." }),
	reason: Type.String({ description: "In words; never a secret." }),
	userId: Type.Optional(Type.String()),
});

export const ImportReport = Type.Object(
	{
		job_id: Type.Union([Type.String(), Type.Null()], { description: "Null for a dry run: nothing was written, not even the job." }),
		status: Type.Union([Type.Literal("running"), Type.Literal("completed"), Type.Literal("failed"), Type.Literal("dry_run")]),
		format: Type.String(),
		counts: Counts,
		entries: Type.Array(Entry, { description: "Every record or user not created, with where and why; the first 1,000." }),
		entries_truncated: Type.Boolean(),
		error: Type.Optional(Type.Object({ code: Type.String(), reason: Type.String(), location: Type.String() }, { description: "Status failed: the fault of the file that stopped the job; users written before it stay." })),
		started_at: Timestamp,
		finished_at: Type.Union([Timestamp, Type.Null()], { description: "Null while the job runs." }),
	},
	{ $id: "ImportReport", description: "What an import did (or, dry run, would do); never a secret.", additionalProperties: true },
);

export const ImportList = Type.Object({ imports: Type.Array(Type.Ref(ImportReport)) });
