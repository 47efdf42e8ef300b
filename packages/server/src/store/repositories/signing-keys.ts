import type { Kysely } from "kysely";
import type { SigningKeyRepository } from "../store.js";
import type { Database } from "../tables.js";

export function signingKeyRepository(db: Kysely<Database>): SigningKeyRepository {
	return {
		async insert(row) {
			await db.insertInto("signing_keys").values(row).execute();
		},
		published(retiredAfter, purpose = "assertion") {
			return db
				.selectFrom("signing_keys")
				.selectAll()
				.where("purpose", "=", purpose)
				.where((eb) => eb.or([eb("retired_at", "is", null), eb("retired_at", ">", retiredAfter)]))
				.orderBy("activates_at", "desc")
				.orderBy("id")
				.execute();
		},
		async withdrawOthers(keepId) {
			const rows = await db.selectFrom("signing_keys").select("id").where("purpose", "=", "assertion").where("id", "!=", keepId).where((eb) => eb.or([eb("retired_at", "is", null), eb("retired_at", ">", 0)])).execute();
			// Retired at the epoch: older than any publication window, so no node serves or trusts them again.
			await db.updateTable("signing_keys").set({ retired_at: 0 }).where("purpose", "=", "assertion").where("id", "!=", keepId).execute();
			return rows.map((row) => row.id);
		},
		async retireOthers(keepIds, at, purpose = "assertion") {
			const keep = typeof keepIds === "string" ? [keepIds] : [...keepIds];
			await db.updateTable("signing_keys").set({ retired_at: at }).where("purpose", "=", purpose).where("retired_at", "is", null).where("id", "not in", keep).execute();
		},
	};
}
