import { type Kysely, sql } from "kysely";

// Frozen in time. The console overview's rollups (issue 16): per-hour counts and per-tenant gauges the charts read
// instead of the events table, a census of which factor kinds each user has active (so the gauges move by exact
// deltas), and the fold's cursor (the last event seq folded in).
export async function up(db: Kysely<any>): Promise<void> {
	await db.schema
		.createTable("event_rollups")
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("hour", "bigint", (c) => c.notNull())
		.addColumn("metric", "text", (c) => c.notNull())
		.addColumn("count", "bigint", (c) => c.notNull())
		.addPrimaryKeyConstraint("event_rollups_pk", ["tenant_id", "hour", "metric"])
		.execute();
	await db.schema
		.createTable("rollup_gauges")
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("metric", "text", (c) => c.notNull())
		.addColumn("value", "bigint", (c) => c.notNull())
		.addPrimaryKeyConstraint("rollup_gauges_pk", ["tenant_id", "metric"])
		.execute();
	await db.schema
		.createTable("factor_census")
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("user_id", "text", (c) => c.notNull())
		// Bits: 1 TOTP, 2 HOTP, 4 WebAuthn (core/event-rollup.ts). A user with no active factor has no row.
		.addColumn("kinds", "integer", (c) => c.notNull())
		.addPrimaryKeyConstraint("factor_census_pk", ["tenant_id", "user_id"])
		.execute();
	await db.schema
		.createTable("rollup_cursor")
		.addColumn("name", "text", (c) => c.primaryKey())
		.addColumn("seq", "bigint", (c) => c.notNull())
		.execute();

	// An installation that already has data starts from what it holds: the census and the gauges from the factors as
	// they are, the hourly counts of the last 8 days from the events so far (one pass over each table, once), and the
	// cursor after the newest event, from which the fold goes on.
	await sql`
		INSERT INTO factor_census (tenant_id, user_id, kinds)
		SELECT tenant_id, user_id, SUM(DISTINCT CASE type WHEN 'totp' THEN 1 WHEN 'hotp' THEN 2 WHEN 'webauthn' THEN 4 ELSE 0 END)
		FROM factors WHERE status = 'active' GROUP BY tenant_id, user_id`.execute(db);
	await sql`DELETE FROM factor_census WHERE kinds = 0`.execute(db);
	for (const [metric, bit] of [["users.any", 7], ["users.totp", 1], ["users.hotp", 2], ["users.webauthn", 4]] as const) {
		await sql`
			INSERT INTO rollup_gauges (tenant_id, metric, value)
			SELECT tenant_id, ${metric}, COUNT(*) FROM factor_census WHERE (kinds & ${sql.lit(bit)}) <> 0 GROUP BY tenant_id`.execute(db);
	}
	const newest = await sql<{ seq: number | string | null }>`SELECT MAX(seq) AS seq FROM events`.execute(db);
	const cursor = Number(newest.rows[0]?.seq ?? 0);
	await sql`INSERT INTO rollup_cursor (name, seq) VALUES ('events', ${cursor})`.execute(db);
	const since = Math.floor((Date.now() - 8 * 24 * 3_600_000) / 3_600_000) * 3_600_000;
	const hour = sql`(created_at / 3600000) * 3600000`;
	const metric = sql`CASE
		WHEN type = 'verification.succeeded' AND data LIKE '%"method":"totp"%' THEN 'verify.ok.totp'
		WHEN type = 'verification.succeeded' AND data LIKE '%"method":"hotp"%' THEN 'verify.ok.hotp'
		WHEN type = 'verification.succeeded' AND data LIKE '%"method":"webauthn"%' THEN 'verify.ok.webauthn'
		WHEN type = 'verification.succeeded' AND data LIKE '%"method":"recovery_code"%' THEN 'verify.ok.recovery_code'
		WHEN type = 'verification.failed' THEN 'verify.failed'
		WHEN type = 'verification.replay_rejected' THEN 'verify.replayed'
		WHEN type = 'user.locked' THEN 'lockouts'
	END`;
	await sql`
		INSERT INTO event_rollups (tenant_id, hour, metric, count)
		SELECT tenant_id, hour, metric, COUNT(*) FROM (
			SELECT tenant_id, ${hour} AS hour, ${metric} AS metric FROM events
			WHERE seq <= ${cursor} AND created_at >= ${since}
				AND type IN ('verification.succeeded', 'verification.failed', 'verification.replay_rejected', 'user.locked')
		) AS folded WHERE metric IS NOT NULL GROUP BY tenant_id, hour, metric`.execute(db);
}
