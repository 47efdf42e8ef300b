import type { Kysely } from "kysely";
import type { ConsoleSessionRepository } from "../store.js";
import type { Database } from "../tables.js";

/** The console's sessions (issue 16): found only live (not ended, not past either timeout). */
export function consoleSessionRepository(db: Kysely<Database>): ConsoleSessionRepository {
	return {
		async insert(row) {
			await db.insertInto("console_sessions").values(row).execute();
		},
		findLive(idHash, now, idleSince) {
			return db
				.selectFrom("console_sessions")
				.selectAll()
				.where("id_hash", "=", idHash)
				.where("ended_at", "is", null)
				.where("expires_at", ">", now)
				.where("last_seen_at", ">", idleSince)
				.executeTakeFirst();
		},
		async touch(idHash, now) {
			await db.updateTable("console_sessions").set({ last_seen_at: now }).where("id_hash", "=", idHash).where("ended_at", "is", null).execute();
		},
		async markVerified(idHash, now) {
			await db.updateTable("console_sessions").set({ verified_at: now, last_seen_at: now }).where("id_hash", "=", idHash).where("ended_at", "is", null).execute();
		},
		async end(idHash, now) {
			await db.updateTable("console_sessions").set({ ended_at: now }).where("id_hash", "=", idHash).where("ended_at", "is", null).execute();
		},
		async endAllOf(operatorId, now) {
			const result = await db.updateTable("console_sessions").set({ ended_at: now }).where("operator_id", "=", operatorId).where("ended_at", "is", null).executeTakeFirst();
			return Number(result.numUpdatedRows);
		},
	};
}
