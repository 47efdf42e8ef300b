import type { Kysely } from "kysely";
import type { WebAuthnCredentialRepository } from "../store.js";
import type { Database } from "../tables.js";

export function webauthnCredentialRepository(db: Kysely<Database>): WebAuthnCredentialRepository {
	return {
		async insert(row) {
			await db.insertInto("webauthn_credentials").values(row).execute();
		},
		async credentialIdTaken(credentialId) {
			const row = await db.selectFrom("webauthn_credentials").select("factor_id").where("credential_id", "=", credentialId).executeTakeFirst();
			return row !== undefined;
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
