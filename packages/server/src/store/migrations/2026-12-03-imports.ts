import { type Kysely, sql } from "kysely";

// Frozen in time. Bulk import (issue 17).
// - import_jobs: one row per import run (not for a dry run), its counts updated after each committed batch so
//   GET /v1/imports/{id} can poll progress; the report's entries (capped at 1,000) and the file fault, if any.
//   No secret is ever stored here: entries hold locations, codes and reasons only (R-ST-4).
// - factors.import_ref: the factor's stable import reference (the source's serial, or a keyed HMAC of the record,
//   never an unkeyed hash of a secret); unique among a tenant's live factors, so a re-run creates nothing.
// - factors.import_job_id: the job that created the factor (a user's later records in the same file may join them).
// - factors.weak_secret: imported with a secret of 80-127 bits (R-OTP-4 as amended): 1, else 0.
// - factors.needs_resync: an HOTP token imported without a counter: verify refuses it until a resync (RFC 4226 §7.4).
export async function up(db: Kysely<any>): Promise<void> {
	await db.schema
		.createTable("import_jobs")
		.addColumn("id", "text", (c) => c.primaryKey())
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("status", "text", (c) => c.notNull())
		.addColumn("format", "text", (c) => c.notNull())
		.addColumn("source_name", "text")
		.addColumn("counts", "text", (c) => c.notNull())
		.addColumn("entries", "text", (c) => c.notNull())
		.addColumn("entries_truncated", "integer", (c) => c.notNull().defaultTo(0))
		.addColumn("error", "text")
		.addColumn("actor_key_id", "text", (c) => c.notNull())
		.addColumn("started_at", "bigint", (c) => c.notNull())
		.addColumn("updated_at", "bigint", (c) => c.notNull())
		.addColumn("finished_at", "bigint")
		.execute();
	await db.schema.createIndex("import_jobs_tenant_started").on("import_jobs").columns(["tenant_id", "started_at"]).execute();

	await db.schema.alterTable("factors").addColumn("import_ref", "text").execute();
	await db.schema.alterTable("factors").addColumn("import_job_id", "text").execute();
	await db.schema.alterTable("factors").addColumn("weak_secret", "integer", (c) => c.notNull().defaultTo(0)).execute();
	await db.schema.alterTable("factors").addColumn("needs_resync", "integer", (c) => c.notNull().defaultTo(0)).execute();
	// A partial unique index (both dialects have them): a deleted factor frees its reference, so a user reset and
	// imported again gets the token back.
	await db.schema
		.createIndex("factors_import_ref")
		.on("factors")
		.columns(["tenant_id", "import_ref"])
		.unique()
		.where("import_ref", "is not", null)
		.where(sql.ref("status"), "<>", "deleted")
		.execute();
}
