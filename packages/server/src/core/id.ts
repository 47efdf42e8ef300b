import { encodeCrockford } from "./crockford.js";
import type { RandomReader } from "./random.js";

export type IdPrefix = "ten" | "key" | "fac" | "rc" | "evt" | "chl" | "sig" | "whk" | "cli" | "imp" | "opr";

/** Prefixed ids with 128 random bits (R-AS-4): unguessable and unlinkable across tenants. */
export function generateId(prefix: IdPrefix, random: RandomReader): string {
	return `${prefix}_${encodeCrockford(random(16))}`;
}

export function isId(prefix: IdPrefix, value: string): boolean {
	return new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`).test(value);
}
