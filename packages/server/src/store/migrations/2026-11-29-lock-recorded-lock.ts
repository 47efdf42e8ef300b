import { type Kysely, sql } from "kysely";

// Frozen in time (issue 12, findings 6 and 7).
//
// 1. The lock is a recorded state: a user is locked exactly when locked_at is set, and only an admin unlock
//    clears it (R-OTP-6). Until now the lock was computed as failed_attempts >= the tenant's current
//    lock_after, so changing lock_after locked or unlocked users with no event. The stamps are made to say
//    what the rule said at the moment of the upgrade: users at or over their tenant's lock_after get
//    locked_at (if they had none), and a stale stamp on a user under it (left by a success, which never
//    cleared locked_at) is removed. So the upgrade unlocks no one and locks no one.
// 2. users.record_expires_at: set only on an attempt record, the row a failed attempt creates for an id
//    Twofold does not know (V-12a), so that id is throttled and locked like a user; null on every user
//    Twofold knows. A partial index serves the sweep that deletes expired records (docs/decisions/0002).
const DEFAULT_LOCK_AFTER = 100; // the default when this migration was written (tenant-settings.ts)

export async function up(db: Kysely<any>): Promise<void> {
	await db.schema.alterTable("users").addColumn("record_expires_at", "bigint").execute();
	await db.schema
		.createIndex("users_record_expiry_idx")
		.on("users")
		.column("record_expires_at")
		.where(sql.ref("record_expires_at"), "is not", null)
		.execute();

	const now = Date.now();
	const tenants = (await db.selectFrom("tenants").select(["id", "settings"]).execute()) as { id: string; settings: string }[];
	for (const tenant of tenants) {
		const lockAfter = lockAfterOf(tenant.settings);
		await db
			.updateTable("users")
			.set({ locked_at: now })
			.where("tenant_id", "=", tenant.id)
			.where("failed_attempts", ">=", lockAfter)
			.where("locked_at", "is", null)
			.execute();
		await db
			.updateTable("users")
			.set({ locked_at: null })
			.where("tenant_id", "=", tenant.id)
			.where("failed_attempts", "<", lockAfter)
			.where("locked_at", "is not", null)
			.execute();
	}
}

function lockAfterOf(settings: string): number {
	try {
		const value = (JSON.parse(settings) as { attempts?: { lock_after?: unknown } }).attempts?.lock_after;
		return typeof value === "number" && Number.isInteger(value) ? value : DEFAULT_LOCK_AFTER;
	} catch {
		return DEFAULT_LOCK_AFTER;
	}
}
