import { createPrivateKey, generateKeyPairSync, type JsonWebKey } from "node:crypto";
import { openSecret, sealSecret } from "../core/envelope.js";
import { generateId } from "../core/id.js";
import type { SigningKeyTable } from "../store/tables.js";
import { type KeyDeps, PREPUBLICATION_MS, signingKeyAssociatedData } from "./signing-keys.js";

/**
 * The keys that sign the prompt's id_tokens (issue 15): service-wide, one RS256 (OIDC Discovery requires every
 * provider to support it) and one EdDSA (for clients registered with it), kept apart from the assertion keys
 * (signing_keys.purpose), their private halves sealed and bound to their kid like those (R-ST-1/2). They rotate with
 * the assertion key (`twofold keys rotate-signing`) on the same schedule: published at once, signing two minutes
 * later, and published for a day after retirement (an id_token is checked once, at the callback, within minutes).
 */
export type IdTokenAlgorithm = "RS256" | "EdDSA";
export const ID_TOKEN_ALGORITHMS: readonly IdTokenAlgorithm[] = ["RS256", "EdDSA"];

const RETIRED_ID_TOKEN_KEY_PUBLISHED_MS = 24 * 60 * 60 * 1000;
const KEY_LIST_REFRESH_MS = 1000;

function newIdTokenKey(deps: KeyDeps, algorithm: IdTokenAlgorithm, now: number, activatesAt: number): SigningKeyTable {
	const { publicKey, privateKey } =
		algorithm === "RS256" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ed25519");
	const id = generateId("sig", deps.random);
	const jwk = { ...(publicKey.export({ format: "jwk" }) as Record<string, unknown>), kid: id, alg: algorithm, use: "sig" };
	const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
	const envelope = sealSecret({ keyring: deps.keyring, plaintext: pkcs8, associatedData: signingKeyAssociatedData(id), random: deps.random });
	pkcs8.fill(0);
	return { id, algorithm, purpose: "id_token", public_jwk: JSON.stringify(jwk), private_envelope: envelope, created_at: now, activates_at: activatesAt, retired_at: null };
}

const publishedRows = (deps: KeyDeps, now: number): Promise<SigningKeyTable[]> => deps.store.signingKeys.published(now - RETIRED_ID_TOKEN_KEY_PUBLISHED_MS, "id_token");

/** The key of this algorithm that signs at `now` (rows come newest activation first). */
function signingRow(rows: readonly SigningKeyTable[], algorithm: IdTokenAlgorithm, now: number): SigningKeyTable | undefined {
	const ofAlgorithm = rows.filter((row) => row.algorithm === algorithm);
	return ofAlgorithm.find((row) => row.activates_at <= now && (row.retired_at === null || row.retired_at > now)) ?? ofAlgorithm.at(-1);
}

/** At start: a key of each algorithm, active at once, where there is none. */
export async function ensureIdTokenKeys(deps: KeyDeps): Promise<void> {
	const now = deps.clock().getTime();
	const rows = await publishedRows(deps, now);
	for (const algorithm of ID_TOKEN_ALGORITHMS) {
		if (signingRow(rows, algorithm, now) === undefined) await deps.store.signingKeys.insert(newIdTokenKey(deps, algorithm, now, now));
	}
}

/** With the assertion key: new keys of both algorithms, published now, signing after PREPUBLICATION_MS (or at once). */
export async function rotateIdTokenKeys(deps: KeyDeps, options: { immediate?: boolean } = {}): Promise<{ kids: string[]; activates_at: string }> {
	const now = deps.clock().getTime();
	const activatesAt = options.immediate === true ? now : now + PREPUBLICATION_MS;
	const rows = ID_TOKEN_ALGORITHMS.map((algorithm) => newIdTokenKey(deps, algorithm, now, activatesAt));
	await deps.store.transaction(async (tx) => {
		for (const row of rows) await tx.signingKeys.insert(row);
		await tx.signingKeys.retireOthers(rows.map((row) => row.id), activatesAt, "id_token");
	});
	return { kids: rows.map((row) => row.id), activates_at: new Date(activatesAt).toISOString() };
}

/** A private JWK as oidc-provider takes it. */
export type PrivateJWK = JsonWebKey & { kid: string; alg: IdTokenAlgorithm; use: "sig" };

export interface IdTokenKeySet {
	/** Changes whenever the published keys or the signing ones change: the providers are rebuilt then. */
	version: string;
	/** The signing key of each algorithm first (oidc-provider signs with the first key of an algorithm), then the rest. */
	keys: PrivateJWK[];
}

export interface IdTokenKeys {
	current(): Promise<IdTokenKeySet>;
}

/** The key set, read again at most once a second, each private key unsealed once per kid. */
export function idTokenKeys(deps: KeyDeps): IdTokenKeys {
	const unsealed = new Map<string, PrivateJWK>();
	let cached: { set: IdTokenKeySet; readAt: number } | undefined;
	const privateJWK = (row: SigningKeyTable): PrivateJWK => {
		let jwk = unsealed.get(row.id);
		if (jwk === undefined) {
			const pkcs8 = openSecret(deps.keyring, row.private_envelope, signingKeyAssociatedData(row.id));
			const key = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
			pkcs8.fill(0);
			jwk = { ...key.export({ format: "jwk" }), kid: row.id, alg: row.algorithm, use: "sig" };
			unsealed.set(row.id, jwk);
		}
		return jwk;
	};
	return {
		async current() {
			const now = deps.clock().getTime();
			if (cached !== undefined && now - cached.readAt < KEY_LIST_REFRESH_MS && now >= cached.readAt) return cached.set;
			const rows = await publishedRows(deps, now);
			const signing = ID_TOKEN_ALGORITHMS.map((algorithm) => signingRow(rows, algorithm, now)).filter((row) => row !== undefined);
			if (signing.length !== ID_TOKEN_ALGORITHMS.length) throw new Error("no id_token signing key: start the server once, or run `twofold keys rotate-signing --immediate`");
			const ordered = [...signing, ...rows.filter((row) => !signing.includes(row))];
			const set = { version: ordered.map((row) => row.id).join(","), keys: ordered.map(privateJWK) };
			cached = { set: cached?.set.version === set.version ? cached.set : set, readAt: now };
			return cached.set;
		},
	};
}
