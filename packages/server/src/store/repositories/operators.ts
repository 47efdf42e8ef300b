import type { Kysely } from "kysely";
import type { OperatorRepository } from "../store.js";
import type { Database } from "../tables.js";

/** Console operators (issue 16). The enrollment link is spent by one conditional update, so it opens once. */
export function operatorRepository(db: Kysely<Database>): OperatorRepository {
	return {
		async insert(row) {
			await db.insertInto("operators").values(row).execute();
		},
		find(id) {
			return db.selectFrom("operators").selectAll().where("id", "=", id).executeTakeFirst();
		},
		findByName(name) {
			return db.selectFrom("operators").selectAll().where("name", "=", name).executeTakeFirst();
		},
		list() {
			return db.selectFrom("operators").selectAll().orderBy("name").execute();
		},
		async setEnrollment(id, hash, expiresAt) {
			await db.updateTable("operators").set({ enrollment_hash: hash, enrollment_expires_at: expiresAt, enrollment_used_at: null }).where("id", "=", id).execute();
		},
		async disable(id, now) {
			// A disabled operator's pending link is void too: nothing they were sent opens anything.
			const result = await db
				.updateTable("operators")
				.set({ status: "disabled", disabled_at: now, enrollment_hash: null, enrollment_expires_at: null })
				.where("id", "=", id)
				.where("status", "=", "active")
				.executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
		async spendEnrollment(hash, now) {
			const result = await db
				.updateTable("operators")
				.set({ enrollment_used_at: now })
				.where("enrollment_hash", "=", hash)
				.where("enrollment_used_at", "is", null)
				.where("enrollment_expires_at", ">", now)
				.where("status", "=", "active")
				.executeTakeFirst();
			if (result.numUpdatedRows === 0n) return undefined;
			return db.selectFrom("operators").selectAll().where("enrollment_hash", "=", hash).executeTakeFirst();
		},
	};
}
