import { generateId } from "../../core/id.js";
import type { RandomReader } from "../../core/random.js";
import type { ChallengeTable } from "../../store/tables.js";
import { CEREMONY_TIMEOUT_MS, CHALLENGE_BYTES } from "./ceremony.js";

/** R-WA-2: 32 random bytes, single use, at most five minutes. */
export function newChallenge(
	random: RandomReader,
	owner: { tenantId: string; userId: string },
	now: number,
	fields: Pick<ChallengeTable, "ceremony" | "factor_id" | "user_handle">,
): { bytes: Uint8Array; row: ChallengeTable } {
	const bytes = random(CHALLENGE_BYTES);
	const row: ChallengeTable = {
		tenant_id: owner.tenantId,
		user_id: owner.userId,
		id: generateId("chl", random),
		challenge: Buffer.from(bytes).toString("base64url"),
		created_at: now,
		expires_at: now + CEREMONY_TIMEOUT_MS,
		consumed_at: null,
		...fields,
	};
	return { bytes, row };
}

export const credentialHints = (rows: readonly { credential_id: string; transports: string }[]) =>
	rows.map((row) => ({ id: row.credential_id, transports: JSON.parse(row.transports) as string[] }));
