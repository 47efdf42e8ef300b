import type { Kysely } from "kysely";

// Frozen in time. Whether a WebAuthn credential's attestation chain reached a configured trust anchor
// at registration (V-15), and the model the MDS file names for it. Credentials registered before were
// never checked: 0, so they count as software-held keys ("swk") from now on.
export async function up(db: Kysely<any>): Promise<void> {
	await db.schema.alterTable("webauthn_credentials").addColumn("attested", "integer", (c) => c.notNull().defaultTo(0)).execute();
	await db.schema.alterTable("webauthn_credentials").addColumn("model", "text").execute();
}
