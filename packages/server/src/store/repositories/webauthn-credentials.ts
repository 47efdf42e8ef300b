import type { Kysely } from "kysely";
import type { WebAuthnCredentialRepository } from "../store.js";
import type { Database } from "../tables.js";

export function webauthnCredentialRepository(db: Kysely<Database>): WebAuthnCredentialRepository {
	return {
		async insert(row) {
			const result = await db
				.insertInto("webauthn_credentials")
				.values(row)
				.onConflict((conflict) => conflict.column("credential_id").doNothing())
				.executeTakeFirst();
			return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
		},
		async remove(tenantId, userId, factorId) {
			await db.deleteFrom("webauthn_credentials").where("tenant_id", "=", tenantId).where("user_id", "=", userId).where("factor_id", "=", factorId).execute();
		},
		listForUser(tenantId, userId) {
			return db.selectFrom("webauthn_credentials").selectAll().where("tenant_id", "=", tenantId).where("user_id", "=", userId).execute();
		},
		findByCredentialId(tenantId, userId, credentialId) {
			return db
				.selectFrom("webauthn_credentials")
				.selectAll()
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("credential_id", "=", credentialId)
				.executeTakeFirst();
		},
		async advanceCounter(tenantId, userId, factorId, expected, next) {
			const result = await db
				.updateTable("webauthn_credentials")
				.set({ sign_count: next })
				.where("tenant_id", "=", tenantId)
				.where("user_id", "=", userId)
				.where("factor_id", "=", factorId)
				.where("sign_count", "=", expected)
				.executeTakeFirst();
			return result.numUpdatedRows > 0n;
		},
	};
}
