import { type Kysely, sql } from "kysely";
import type { SealedSecretRepository } from "../store.js";
import type { Database } from "../tables.js";

// "v1.<12-character key id>.…" (core/envelope.ts): the key id is characters 4 to 15, the same in both dialects.
const keyIdOf = (column: string) => sql<string>`substr(${sql.ref(column)}, 4, 12)`;

/** Every column that holds an envelope sealed under a master key, for the start check and for rewrapping (R-ST-3). */
export function sealedSecretRepository(db: Kysely<Database>): SealedSecretRepository {
	return {
		async keyIds() {
			const rows = await db
				.selectFrom("factors")
				.select(keyIdOf("secret_envelope").as("key_id"))
				.where("secret_envelope", "is not", null)
				.union(db.selectFrom("signing_keys").select(keyIdOf("private_envelope").as("key_id")))
				.union(db.selectFrom("webhooks").select(keyIdOf("secret_envelope").as("key_id")))
				.union(db.selectFrom("webhooks").select(keyIdOf("previous_secret_envelope").as("key_id")).where("previous_secret_envelope", "is not", null))
				.union(db.selectFrom("clients").select(keyIdOf("secret_envelope").as("key_id")).where("secret_envelope", "is not", null))
				.execute();
			return rows.map((row) => row.key_id).sort();
		},
		async page(after, limit) {
			// Factors by primary key (keyset pagination: each page one index range, whatever the table's size),
			// then the few signing keys and webhooks in one last page.
			if (after !== null && after.kind !== "factor") return [];
			let query = db.selectFrom("factors").select(["tenant_id", "user_id", "id", "secret_envelope"]).where("secret_envelope", "is not", null);
			if (after !== null) {
				query = query.where((eb) => eb(eb.refTuple("tenant_id", "user_id", "id"), ">", eb.tuple(after.tenant_id!, after.user_id!, after.id)));
			}
			const rows = await query.orderBy("tenant_id").orderBy("user_id").orderBy("id").limit(limit).execute();
			if (rows.length > 0) return rows.map((row) => ({ kind: "factor" as const, tenant_id: row.tenant_id, user_id: row.user_id, id: row.id, envelope: row.secret_envelope! }));
			const keys = await db.selectFrom("signing_keys").select(["id", "private_envelope"]).execute();
			const webhooks = await db.selectFrom("webhooks").select(["tenant_id", "id", "secret_envelope", "previous_secret_envelope"]).execute();
			const clients = await db.selectFrom("clients").select(["tenant_id", "id", "secret_envelope"]).where("secret_envelope", "is not", null).execute();
			return [
				...clients.map((row) => ({ kind: "client_secret" as const, tenant_id: row.tenant_id, user_id: null, id: row.id, envelope: row.secret_envelope! })),
				...keys.map((row) => ({ kind: "signing_key" as const, tenant_id: null, user_id: null, id: row.id, envelope: row.private_envelope })),
				...webhooks.map((row) => ({ kind: "webhook" as const, tenant_id: row.tenant_id, user_id: null, id: row.id, envelope: row.secret_envelope })),
				...webhooks
					.filter((row) => row.previous_secret_envelope !== null)
					.map((row) => ({ kind: "webhook_previous" as const, tenant_id: row.tenant_id, user_id: null, id: row.id, envelope: row.previous_secret_envelope! })),
			];
		},
		async replace(secret, next) {
			let result: { numUpdatedRows: bigint };
			switch (secret.kind) {
				case "factor":
					result = await db
						.updateTable("factors")
						.set({ secret_envelope: next })
						.where("tenant_id", "=", secret.tenant_id!)
						.where("user_id", "=", secret.user_id!)
						.where("id", "=", secret.id)
						.where("secret_envelope", "=", secret.envelope)
						.executeTakeFirst();
					break;
				case "signing_key":
					result = await db.updateTable("signing_keys").set({ private_envelope: next }).where("id", "=", secret.id).where("private_envelope", "=", secret.envelope).executeTakeFirst();
					break;
				case "client_secret":
					result = await db
						.updateTable("clients")
						.set({ secret_envelope: next })
						.where("tenant_id", "=", secret.tenant_id!)
						.where("id", "=", secret.id)
						.where("secret_envelope", "=", secret.envelope)
						.executeTakeFirst();
					break;
				case "webhook":
				case "webhook_previous": {
					// The current secret, or the one still signing beside it after a webhook-secret rotation.
					const column = secret.kind === "webhook" ? "secret_envelope" : "previous_secret_envelope";
					result = await db
						.updateTable("webhooks")
						.set(column === "secret_envelope" ? { secret_envelope: next } : { previous_secret_envelope: next })
						.where("tenant_id", "=", secret.tenant_id!)
						.where("id", "=", secret.id)
						.where(column, "=", secret.envelope)
						.executeTakeFirst();
					break;
				}
			}
			return result.numUpdatedRows > 0n;
		},
	};
}
