import type { Kysely } from "kysely";

// Frozen in time, like 001 and 002. Step-up assertions (issue 4): the signing keys, and the
// assertion ids redeemed once (R-AS-5) or spent as a proof for a factor change.
export async function up(db: Kysely<any>): Promise<void> {
	await db.schema
		.createTable("signing_keys")
		.addColumn("id", "text", (c) => c.primaryKey()) // the JWS kid
		.addColumn("algorithm", "text", (c) => c.notNull())
		.addColumn("public_jwk", "text", (c) => c.notNull())
		// PKCS#8, sealed under the master key and bound to this kid (R-ST-1, R-ST-2).
		.addColumn("private_envelope", "text", (c) => c.notNull())
		.addColumn("created_at", "bigint", (c) => c.notNull())
		// Published from created_at, signing from activates_at: verifiers see a key before its first assertion.
		.addColumn("activates_at", "bigint", (c) => c.notNull())
		.addColumn("retired_at", "bigint")
		.execute();

	await db.schema
		.createTable("redeemed_assertions")
		.addColumn("jti", "text", (c) => c.primaryKey())
		.addColumn("tenant_id", "text", (c) => c.notNull())
		.addColumn("user_id", "text", (c) => c.notNull())
		.addColumn("expires_at", "bigint", (c) => c.notNull())
		.addColumn("redeemed_at", "bigint", (c) => c.notNull())
		.execute();
	await db.schema.createIndex("redeemed_assertions_expiry").on("redeemed_assertions").column("expires_at").execute();
}
