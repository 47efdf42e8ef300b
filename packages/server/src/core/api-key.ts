import { createHash } from "node:crypto";
import { encodeCrockford } from "./crockford.js";
import type { RandomReader } from "./random.js";

/**
 * API keys as "tfk_<id>_<secret>" (Lucia's id.secret design): the id finds the
 * row, and only SHA-256(secret) is stored. The secret carries 256 random bits,
 * so a fast hash is enough; nothing in the database can be replayed as a key.
 */
const TOKEN = /^tfk_([0-9a-hjkmnp-tv-z]{26})_([0-9a-hjkmnp-tv-z]{52})$/;

export interface NewAPIKey {
	id: string;
	token: string;
	secretHash: string;
}

export function hashAPIKeySecret(secret: string): string {
	return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function createAPIKey(random: RandomReader): NewAPIKey {
	const idPart = encodeCrockford(random(16));
	const secret = encodeCrockford(random(32)).slice(0, 52);
	return { id: `key_${idPart}`, token: `tfk_${idPart}_${secret}`, secretHash: hashAPIKeySecret(secret) };
}

/** Splits a presented token; null when it is not shaped like one of ours. */
export function parseAPIKey(token: string): { id: string; secret: string } | null {
	const match = TOKEN.exec(token);
	return match === null ? null : { id: `key_${match[1]}`, secret: match[2]! };
}
