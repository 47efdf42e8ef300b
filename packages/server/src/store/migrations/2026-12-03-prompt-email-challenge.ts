import type { Kysely } from "kysely";

// Frozen in time. The email code a prompt session sent (issue 15): the challenge id is kept with the session, not
// in the page, so the code typed on this interaction answers only the challenge this session caused. An id, not a
// secret: the code itself exists only as its HMAC in challenges (R-EM-4).
export async function up(db: Kysely<any>): Promise<void> {
	await db.schema.alterTable("prompt_sessions").addColumn("email_challenge_id", "text").execute();
}
