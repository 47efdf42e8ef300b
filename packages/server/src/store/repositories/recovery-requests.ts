import type { Kysely } from "kysely";
import type { RecoveryRequestRepository } from "../store.js";
import type { Database } from "../tables.js";

export function recoveryRequestRepository(db: Kysely<Database>): RecoveryRequestRepository {
	return {
		async record(tenantId, userId, now, minIntervalMs) {
			// One conditional upsert is the decision (never read-then-write): a first request inserts; a later one
			// updates only when the last recorded one is at least minIntervalMs old. Racing requests: one row changes.
			const result = await db
				.insertInto("recovery_requests")
				.values({ tenant_id: tenantId, user_id: userId, last_recorded_at: now })
				.onConflict((conflict) =>
					conflict
						.columns(["tenant_id", "user_id"])
						.doUpdateSet({ last_recorded_at: now })
						.where("recovery_requests.last_recorded_at", "<=", now - minIntervalMs),
				)
				.executeTakeFirst();
			return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
		},
	};
}
