import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { MAX_ASSERTION_TTL_SECONDS } from "../core/assertion-claims.js";
import { openSecret, sealSecret } from "../core/envelope.js";
import { generateId } from "../core/id.js";
import { JWS_ALGORITHM } from "../core/jws.js";
import type { Store } from "../store/store.js";
import type { SigningKeyTable } from "../store/tables.js";
import type { KeyDeps } from "./deps.js";

/**
 * The keys that sign step-up assertions: Ed25519, one active at a time, the
 * private half sealed under the master key and bound to its kid (R-ST-1/2).
 * A retired key stays in the JWKS until every assertion it signed has expired
 * (the longest lifetime plus a minute of clock skew), then leaves it.
 */
export const RETIRED_KEY_PUBLISHED_MS = (MAX_ASSERTION_TTL_SECONDS + 60) * 1000;

/** A node keeps signing with the key it read for at most this long after a rotation elsewhere; the old key is still published then. */
const ACTIVE_KEY_REFRESH_MS = 1000;

export interface PublicJWK {
	kty: "OKP";
	crv: "Ed25519";
	x: string;
	kid: string;
	alg: typeof JWS_ALGORITHM;
	use: "sig";
}

const associatedData = (kid: string): string => JSON.stringify(["signing-key", kid]);

function newSigningKey(deps: KeyDeps, now: number): SigningKeyTable {
	const { publicKey, privateKey } = generateKeyPairSync("ed25519");
	const id = generateId("sig", deps.random);
	const { x } = publicKey.export({ format: "jwk" }) as { x: string };
	const jwk: PublicJWK = { kty: "OKP", crv: "Ed25519", x, kid: id, alg: JWS_ALGORITHM, use: "sig" };
	const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
	const envelope = sealSecret({ keyring: deps.keyring, plaintext: pkcs8, associatedData: associatedData(id), random: deps.random });
	pkcs8.fill(0);
	return { id, algorithm: JWS_ALGORITHM, public_jwk: JSON.stringify(jwk), private_envelope: envelope, created_at: now, retired_at: null };
}

/** At start: a first signing key if there is none. */
export async function ensureSigningKey(deps: KeyDeps): Promise<void> {
	if ((await deps.store.signingKeys.active()) !== undefined) return;
	await deps.store.signingKeys.insert(newSigningKey(deps, deps.clock().getTime()));
}

/** `twofold keys rotate-signing`: a new active key; the previous one is retired and stays published until its assertions expire. */
export async function rotateSigningKey(deps: KeyDeps): Promise<{ kid: string; retired: string[] }> {
	const now = deps.clock().getTime();
	const row = newSigningKey(deps, now);
	return deps.store.transaction(async (tx: Store) => {
		const before = await tx.signingKeys.published(now);
		await tx.signingKeys.insert(row);
		await tx.signingKeys.retireOthers(row.id, now);
		return { kid: row.id, retired: before.filter((key) => key.retired_at === null).map((key) => key.id) };
	});
}

/** GET /.well-known/jwks.json: the active key and the retired ones whose assertions may still be live. */
export async function publishedKeys(deps: KeyDeps): Promise<{ keys: PublicJWK[] }> {
	const rows = await deps.store.signingKeys.published(deps.clock().getTime() - RETIRED_KEY_PUBLISHED_MS);
	return { keys: rows.map((row) => JSON.parse(row.public_jwk) as PublicJWK) };
}

export interface SigningKeys {
	/** The active key, unsealed once per kid; re-read from the store at most once a second (rotation reaches every node). */
	active(): Promise<{ kid: string; privateKey: KeyObject }>;
	/** A published key by kid, for checking Twofold's own assertions; null when unknown or no longer published. */
	publicKey(kid: string): Promise<KeyObject | null>;
	/** After a rotation in this process: read the active key again now rather than within the second. */
	forgetActive(): void;
}

export function signingKeys(deps: KeyDeps): SigningKeys {
	const unsealed = new Map<string, KeyObject>();
	let current: { kid: string; privateKey: KeyObject; readAt: number } | undefined;
	return {
		async active() {
			const now = Date.now();
			if (current !== undefined && now - current.readAt < ACTIVE_KEY_REFRESH_MS) return current;
			const row = await deps.store.signingKeys.active();
			if (row === undefined) throw new Error("no active signing key: run `twofold migrate` or start the server once");
			let privateKey = unsealed.get(row.id);
			if (privateKey === undefined) {
				const pkcs8 = openSecret(deps.keyring, row.private_envelope, associatedData(row.id));
				privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
				pkcs8.fill(0);
				unsealed.set(row.id, privateKey);
			}
			current = { kid: row.id, privateKey, readAt: now };
			return current;
		},
		forgetActive() {
			current = undefined;
		},
		async publicKey(kid) {
			const published = await publishedKeys(deps);
			const jwk = published.keys.find((key) => key.kid === kid);
			return jwk === undefined ? null : createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
		},
	};
}
