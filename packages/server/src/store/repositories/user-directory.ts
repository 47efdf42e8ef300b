import { type Kysely, sql } from "kysely";
import type { UserDirectoryRepository } from "../store.js";
import type { Database } from "../tables.js";

/**
 * The console's user list (issue 16): a tenant's users by id, a page at a time, keyset-paged (the next page starts
 * after the last id shown, never at an OFFSET), optionally only ids starting with a prefix, or only locked users.
 * Attempt records (ids that never enrolled, V-12a) are not users and never listed.
 */
export function userDirectoryRepository(db: Kysely<Database>, dialect: "sqlite" | "postgres"): UserDirectoryRepository {
	return {
		page(tenantId, query) {
			let select = db.selectFrom("users").selectAll().where("tenant_id", "=", tenantId).where("record_expires_at", "is", null);
			if (query.prefix !== undefined && query.prefix !== "") {
				const prefix = query.prefix;
				// The range start lets the primary key's index seek; the prefix test keeps exactly the ids that start with it.
				select = select.where("id", ">=", prefix);
				select = dialect === "postgres" ? select.where(sql<boolean>`starts_with(id, ${prefix})`) : select.where(sql<boolean>`substr(id, 1, length(${prefix})) = ${prefix}`);
			}
			if (query.lockedOnly === true) select = select.where("locked_at", "is not", null);
			if (query.after !== undefined) select = select.where("id", ">", query.after);
			return select.orderBy("id").limit(query.limit).execute();
		},
	};
}
