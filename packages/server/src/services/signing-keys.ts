import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { MAX_ASSERTION_TTL_SECONDS } from "../core/assertion-claims.js";
import { SIGNING_ALGORITHM } from "../core/assertion-contract.js";
import { openSecret, sealSecret } from "../core/envelope.js";
import { generateId } from "../core/id.js";
import type { Keyring } from "../core/keyring.js";
import type { RandomReader } from "../core/random.js";
import type { Clock } from "../clock/clock.js";
import type { Store } from "../store/store.js";
import type { SigningKeyTable } from "../store/tables.js";

/**
 * The keys that sign step-up assertions: Ed25519, the private half sealed under
 * the master key and bound to its kid (R-ST-1/2).
 *
 * A rotation publishes the new key at once but lets it sign only two minutes
 * later: a verifier that fetched the JWKS just before (its refetch cooldown, an
 * HTTP cache) has it by the time the first assertion under it arrives. The old
 * key signs until then and stays published until every assertion it signed has
 * expired (the longest lifetime plus a minute of clock skew).
 */
/**
 * What the signing keys need (and the key rewrap and restore fence, which run before or without the
 * rest). Declared here, not derived from ServiceDeps: ServiceDeps holds the signing keys themselves
 * and extends this, so deriving it made deps.ts and this file import each other.
 */
export interface KeyDeps {
	store: Store;
	keyring: Keyring;
	clock: Clock;
	random: RandomReader;
}

export const RETIRED_KEY_PUBLISHED_MS = (MAX_ASSERTION_TTL_SECONDS + 60) * 1000;
export const PREPUBLICATION_MS = 2 * 60 * 1000;

/** A node re-reads the key list at most this often; rotation reaches every node within it, without restarts. */
const KEY_LIST_REFRESH_MS = 1000;

export interface PublicJWK {
	kty: "OKP";
	crv: "Ed25519";
	x: string;
	kid: string;
	alg: typeof SIGNING_ALGORITHM;
	use: "sig";
}

export const signingKeyAssociatedData = (kid: string): string => JSON.stringify(["signing-key", kid]);

function newSigningKey(deps: KeyDeps, now: number, activatesAt: number): SigningKeyTable {
	const { publicKey, privateKey } = generateKeyPairSync("ed25519");
	const id = generateId("sig", deps.random);
	const { x } = publicKey.export({ format: "jwk" }) as { x: string };
	const jwk: PublicJWK = { kty: "OKP", crv: "Ed25519", x, kid: id, alg: SIGNING_ALGORITHM, use: "sig" };
	const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
	const envelope = sealSecret({ keyring: deps.keyring, plaintext: pkcs8, associatedData: signingKeyAssociatedData(id), random: deps.random });
	pkcs8.fill(0);
	return { id, algorithm: SIGNING_ALGORITHM, purpose: "assertion", public_jwk: JSON.stringify(jwk), private_envelope: envelope, created_at: now, activates_at: activatesAt, retired_at: null };
}

const publishedRows = (deps: KeyDeps, now: number): Promise<SigningKeyTable[]> => deps.store.signingKeys.published(now - RETIRED_KEY_PUBLISHED_MS);

/**
 * The key that signs at `now`: activated, not yet retired, the latest activation (rows come newest
 * activation first). A clock that stepped back before the first key's activation still finds that key,
 * rather than failing every verify.
 */
function signingRow(rows: readonly SigningKeyTable[], now: number): SigningKeyTable | undefined {
	return rows.find((row) => row.activates_at <= now && (row.retired_at === null || row.retired_at > now)) ?? rows.at(-1);
}

/** At start: a first signing key, active at once, if there is none. */
export async function ensureSigningKey(deps: KeyDeps): Promise<void> {
	const now = deps.clock().getTime();
	if (signingRow(await publishedRows(deps, now), now) !== undefined) return;
	await deps.store.signingKeys.insert(newSigningKey(deps, now, now));
}

/**
 * After a restore (D-6): a new key that signs at once, and every other key unpublished at once, so no
 * assertion issued before the restore verifies again (its jti may be missing from the restored
 * redeemed_assertions). Runs in the caller's transaction.
 */
export async function replaceSigningKeys(deps: KeyDeps, tx: Store, now: number): Promise<{ kid: string; withdrawn: string[] }> {
	const row = newSigningKey(deps, now, now);
	await tx.signingKeys.insert(row);
	return { kid: row.id, withdrawn: await tx.signingKeys.withdrawOthers(row.id) };
}

/**
 * `twofold keys rotate-signing`: a new key, published now, signing after PREPUBLICATION_MS
 * (or at once with `immediate`, for a suspected compromise: verifiers then refetch on the new kid).
 */
export async function rotateSigningKey(deps: KeyDeps, options: { immediate?: boolean } = {}): Promise<{ kid: string; activates_at: string; retiring: string[] }> {
	const now = deps.clock().getTime();
	const activatesAt = options.immediate === true ? now : now + PREPUBLICATION_MS;
	const row = newSigningKey(deps, now, activatesAt);
	return deps.store.transaction(async (tx: Store) => {
		const before = await tx.signingKeys.published(now);
		await tx.signingKeys.insert(row);
		await tx.signingKeys.retireOthers(row.id, activatesAt);
		return { kid: row.id, activates_at: new Date(activatesAt).toISOString(), retiring: before.filter((key) => key.retired_at === null).map((key) => key.id) };
	});
}

/** GET /.well-known/jwks.json: pending, signing, and retired keys whose assertions may still be live. */
export async function publishedKeys(deps: KeyDeps): Promise<{ keys: PublicJWK[] }> {
	const rows = await publishedRows(deps, deps.clock().getTime());
	return { keys: rows.map((row) => JSON.parse(row.public_jwk) as PublicJWK) };
}

export interface SigningKeys {
	/** The key signing now, unsealed once per kid. */
	active(): Promise<{ kid: string; privateKey: KeyObject }>;
	/** A published key by kid, for checking Twofold's own assertions; null when unknown or no longer published. */
	publicKey(kid: string): Promise<KeyObject | null>;
	/** After a rotation in this process: read the key list again now rather than within the second. */
	forgetActive(): void;
}

export function signingKeys(deps: KeyDeps): SigningKeys {
	const unsealed = new Map<string, KeyObject>();
	// One KeyObject per kid, like the private keys: jose caches the CryptoKey it imports per KeyObject, so a new
	// KeyObject per read would import the key again on every redeem and every assertion-proven factor change.
	const publicKeys = new Map<string, KeyObject>();
	let list: { rows: SigningKeyTable[]; readAt: number } | undefined;
	const rows = async (now: number): Promise<SigningKeyTable[]> => {
		if (list === undefined || now - list.readAt >= KEY_LIST_REFRESH_MS || now < list.readAt) list = { rows: await publishedRows(deps, now), readAt: now };
		return list.rows;
	};
	return {
		async active() {
			const now = deps.clock().getTime();
			const row = signingRow(await rows(now), now);
			if (row === undefined) throw new Error("no signing key is active: start the server once, or run `twofold keys rotate-signing --immediate`");
			let privateKey = unsealed.get(row.id);
			if (privateKey === undefined) {
				const pkcs8 = openSecret(deps.keyring, row.private_envelope, signingKeyAssociatedData(row.id));
				privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
				pkcs8.fill(0);
				unsealed.set(row.id, privateKey);
			}
			return { kid: row.id, privateKey };
		},
		async publicKey(kid) {
			const now = deps.clock().getTime();
			const row = (await rows(now)).find((key) => key.id === kid);
			if (row === undefined) return null;
			let publicKey = publicKeys.get(kid);
			if (publicKey === undefined) {
				const jwk = JSON.parse(row.public_jwk) as PublicJWK;
				publicKey = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
				publicKeys.set(kid, publicKey);
			}
			return publicKey;
		},
		forgetActive() {
			list = undefined;
		},
	};
}
