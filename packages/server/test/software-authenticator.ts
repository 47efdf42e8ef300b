import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

/**
 * A software WebAuthn authenticator for the HTTP tests (the positive path also runs
 * in Chromium's virtual authenticator, test/e2e). It builds real registration and
 * assertion responses, signed with ES256 (WebAuthn-3 §6.1, §6.5), and lets a test
 * bend any one field to hit any one check (V-15).
 */

// Minimal CBOR (RFC 8949) for what attestation objects and COSE keys need.
function head(major: number, value: number): Buffer {
	if (value < 24) return Buffer.from([(major << 5) | value]);
	if (value < 256) return Buffer.from([(major << 5) | 24, value]);
	if (value < 65536) return Buffer.from([(major << 5) | 25, value >> 8, value & 0xff]);
	const b = Buffer.alloc(5);
	b[0] = (major << 5) | 26;
	b.writeUInt32BE(value, 1);
	return b;
}
type CBOR = number | string | Uint8Array | CBOR[] | Map<number | string, CBOR>;
export function cbor(value: CBOR): Buffer {
	if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
	if (typeof value === "string") return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value, "utf8")]);
	if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
	if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
	return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const b64u = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");
const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest();

export const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 };

export interface Bend {
	origin?: string;
	rpId?: string;
	type?: string;
	challenge?: string;
	flags?: number;
	counter?: number;
	crossOrigin?: boolean;
	userHandle?: string | null;
}

/**
 * The attestation statement register() sends (WebAuthn-3 §8): "none" (the default), packed self
 * attestation (signed with the credential's own key), or packed full attestation with an x5c chain
 * whose first certificate's key signs.
 */
export type AttestationStyle = { fmt: "none" } | { fmt: "packed-self" } | { fmt: "packed"; x5c: Uint8Array[]; key: KeyObject };

export class SoftwareAuthenticator {
	readonly credentialId = randomBytes(32);
	/** The model's AAGUID in the attested credential data; zeros unless a test sets one. */
	aaguid: Buffer = Buffer.alloc(16);
	readonly #privateKey: KeyObject;
	readonly #publicKey: KeyObject;
	counter = 0;
	userHandle: string | null = null;

	constructor(
		readonly rpId: string,
		readonly origin: string,
	) {
		const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
		this.#privateKey = pair.privateKey;
		this.#publicKey = pair.publicKey;
	}

	get id(): string {
		return b64u(this.credentialId);
	}

	#coseKey(): Buffer {
		const jwk = this.#publicKey.export({ format: "jwk" });
		return cbor(
			new Map<number, CBOR>([
				[1, 2],
				[3, -7],
				[-1, 1],
				[-2, Buffer.from(jwk.x!, "base64url")],
				[-3, Buffer.from(jwk.y!, "base64url")],
			]),
		);
	}

	#clientData(type: string, challenge: string, bend: Bend): Buffer {
		return Buffer.from(JSON.stringify({ type: bend.type ?? type, challenge: bend.challenge ?? challenge, origin: bend.origin ?? this.origin, crossOrigin: bend.crossOrigin ?? false }));
	}

	#authData(flags: number, counter: number, bend: Bend, attested?: Buffer): Buffer {
		const count = Buffer.alloc(4);
		count.writeUInt32BE(counter);
		return Buffer.concat([sha256(bend.rpId ?? this.rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
	}

	/** A response to PublicKeyCredentialCreationOptionsJSON, attestation "none" unless `attestation` says otherwise. */
	register(options: { challenge: string; user: { id: string } }, bend: Bend = {}, attestation: AttestationStyle = { fmt: "none" }): Record<string, unknown> {
		this.userHandle = options.user.id;
		const idLength = Buffer.alloc(2);
		idLength.writeUInt16BE(this.credentialId.length);
		const attested = Buffer.concat([this.aaguid, idLength, this.credentialId, this.#coseKey()]);
		const authData = this.#authData(bend.flags ?? FLAGS.UP | FLAGS.UV | FLAGS.AT, bend.counter ?? this.counter, bend, attested);
		const clientDataJSON = this.#clientData("webauthn.create", options.challenge, bend);
		// Packed (WebAuthn-3 §8.2): sig over authenticatorData || SHA-256(clientDataJSON), alg ES256.
		const signed = Buffer.concat([authData, sha256(clientDataJSON)]);
		const statement: [string, Map<string, CBOR>] =
			attestation.fmt === "none"
				? ["none", new Map()]
				: attestation.fmt === "packed-self"
					? ["packed", new Map<string, CBOR>([["alg", -7], ["sig", sign("sha256", signed, this.#privateKey)]])]
					: ["packed", new Map<string, CBOR>([["alg", -7], ["sig", sign("sha256", signed, attestation.key)], ["x5c", attestation.x5c]])];
		const attestationObject = cbor(new Map<string, CBOR>([["fmt", statement[0]], ["attStmt", statement[1]], ["authData", authData]]));
		return {
			id: this.id,
			rawId: this.id,
			type: "public-key",
			response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ["usb"] },
			clientExtensionResults: {},
		};
	}

	/** An assertion for PublicKeyCredentialRequestOptionsJSON; each call counts up, as authenticators do. */
	assert(options: { challenge: string }, bend: Bend = {}): Record<string, unknown> {
		if (bend.counter === undefined) this.counter += 1;
		const authData = this.#authData(bend.flags ?? FLAGS.UP | FLAGS.UV, bend.counter ?? this.counter, bend);
		const clientDataJSON = this.#clientData("webauthn.get", options.challenge, bend);
		const signature = sign("sha256", Buffer.concat([authData, sha256(clientDataJSON)]), this.#privateKey);
		const userHandle = bend.userHandle === undefined ? this.userHandle : bend.userHandle;
		return {
			id: this.id,
			rawId: this.id,
			type: "public-key",
			response: {
				clientDataJSON: b64u(clientDataJSON),
				authenticatorData: b64u(authData),
				signature: b64u(signature),
				...(userHandle === null ? {} : { userHandle }),
			},
			clientExtensionResults: {},
		};
	}
}
