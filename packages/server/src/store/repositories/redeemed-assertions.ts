import type { Kysely } from "kysely";
import type { RedeemedAssertionRepository } from "../store.js";
import type { Database } from "../tables.js";

export function redeemedAssertionRepository(db: Kysely<Database>): RedeemedAssertionRepository {
	return {
		async redeem(row) {
			const result = await db
				.insertInto("redeemed_assertions")
				.values(row)
				.onConflict((conflict) => conflict.column("jti").doNothing())
				.executeTakeFirst();
			return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
		},
		async deleteExpired(now) {
			await db.deleteFrom("redeemed_assertions").where("expires_at", "<", now).execute();
		},
	};
}
