import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EnvelopeError, envelopeKeyId, openSecret, resealSecret, sealSecret } from "./envelope.js";
import { createKeyring, masterKeyId } from "./keyring.js";

const random = (n: number) => new Uint8Array(randomBytes(n));
const secret = new Uint8Array(randomBytes(20));

describe("envelope (R-ST-1, R-ST-2)", () => {
	const master = random(32);
	const keyring = createKeyring([master]);

	it("round-trips and names its key", () => {
		const sealed = sealSecret({ keyring, plaintext: secret, associatedData: "row-a", random });
		expect(Buffer.from(openSecret(keyring, sealed, "row-a"))).toEqual(Buffer.from(secret));
		expect(envelopeKeyId(sealed)).toBe(masterKeyId(master));
		expect(sealed).not.toContain(Buffer.from(secret).toString("base64url"));
	});

	it("a ciphertext moved to another row does not open (AAD binding)", () => {
		const sealed = sealSecret({ keyring, plaintext: secret, associatedData: "row-a", random });
		expect(() => openSecret(keyring, sealed, "row-b")).toThrow(EnvelopeError);
	});

	it("any flipped byte fails authentication", () => {
		const sealed = sealSecret({ keyring, plaintext: secret, associatedData: "row-a", random });
		const parts = sealed.split(".");
		const body = Buffer.from(parts[3]!, "base64url");
		for (const index of [0, body.length - 1]) {
			const tampered = Buffer.from(body);
			tampered[index]! ^= 1;
			expect(() => openSecret(keyring, [parts[0], parts[1], parts[2], tampered.toString("base64url")].join("."), "row-a")).toThrow(EnvelopeError);
		}
	});

	it("an unknown key id or malformed envelope is refused", () => {
		const other = createKeyring([random(32)]);
		const sealed = sealSecret({ keyring: other, plaintext: secret, associatedData: "row-a", random });
		expect(() => openSecret(keyring, sealed, "row-a")).toThrow(EnvelopeError);
		expect(() => openSecret(keyring, "v1.x.y", "row-a")).toThrow(EnvelopeError);
		expect(() => openSecret(keyring, "v2.a.b.c", "row-a")).toThrow(EnvelopeError);
	});

	it("each refusal names its reason, and a malformed envelope names no key (issue 20: mutation survivors)", () => {
		const sealed = sealSecret({ keyring, plaintext: secret, associatedData: "row-a", random });
		const [version, keyId, nonce, body] = sealed.split(".") as [string, string, string, string];
		const refusal = (envelope: string) => {
			try {
				openSecret(keyring, envelope, "row-a");
			} catch (error) {
				expect(error).toBeInstanceOf(EnvelopeError);
				return (error as Error).message;
			}
			throw new Error("opened");
		};
		for (const malformed of [`${version}.${keyId}.${nonce}`, `${sealed}.extra`, `v2.${keyId}.${nonce}.${body}`]) {
			expect(refusal(malformed)).toBe("unknown envelope format");
			expect(envelopeKeyId(malformed)).toBeNull();
		}
		expect(refusal(`${version}.k_unknown.${nonce}.${body}`)).toBe("envelope sealed under a key that is not in the key ring");
		// GCM takes any nonce length, so only the explicit check tells a cut nonce from a forgery.
		const shortNonce = Buffer.from(nonce, "base64url").subarray(1).toString("base64url");
		expect(refusal(`${version}.${keyId}.${shortNonce}.${body}`)).toBe("truncated envelope");
		const shortBody = Buffer.from(body, "base64url").subarray(0, 15).toString("base64url");
		expect(refusal(`${version}.${keyId}.${nonce}.${shortBody}`)).toBe("truncated envelope");
		expect(refusal(sealed.replace(/.$/, (c) => (c === "A" ? "B" : "A")))).toBe("envelope failed authentication");
		expect(new EnvelopeError("x").name).toBe("EnvelopeError");
	});

	it("an empty secret seals to the tag alone, exactly TAG_BYTES, and opens again", () => {
		const sealed = sealSecret({ keyring, plaintext: new Uint8Array(0), associatedData: "row-a", random });
		expect(Buffer.from(sealed.split(".")[3]!, "base64url").byteLength).toBe(16);
		expect(openSecret(keyring, sealed, "row-a")).toStrictEqual(new Uint8Array(0));
	});

	it("refuses to seal when the key ring's active key is missing from it (misuse is a TypeError)", () => {
		const broken = { ...keyring, activeKeyId: "k_missing" };
		expect(() => sealSecret({ keyring: broken, plaintext: secret, associatedData: "row-a", random })).toThrow(new TypeError("the active key is missing from the key ring"));
	});

	it("reseals under the active key for the same row, and leaves an envelope already under it alone (rotation, R-ST-3)", () => {
		const old = sealSecret({ keyring, plaintext: secret, associatedData: "row-a", random });
		expect(resealSecret(keyring, old, "row-a", random)).toBeNull();
		const newMaster = random(32);
		const rotated = createKeyring([newMaster, master]);
		const resealed = resealSecret(rotated, old, "row-a", random)!;
		expect(envelopeKeyId(resealed)).toBe(masterKeyId(newMaster));
		expect(Buffer.from(openSecret(rotated, resealed, "row-a"))).toEqual(Buffer.from(secret));
		expect(() => openSecret(rotated, resealed, "row-b")).toThrow(EnvelopeError);
		expect(() => openSecret(keyring, resealed, "row-a")).toThrow(EnvelopeError);
		expect(resealSecret(rotated, resealed, "row-a", random)).toBeNull();
		// An envelope that is not this row's is not resealed into one.
		expect(() => resealSecret(rotated, old, "row-b", random)).toThrow("envelope failed authentication");
	});

	it("an old key still opens after a new key becomes active (rotation, R-ST-3)", () => {
		const sealed = sealSecret({ keyring, plaintext: secret, associatedData: "row-a", random });
		const rotated = createKeyring([random(32), master]);
		expect(Buffer.from(openSecret(rotated, sealed, "row-a"))).toEqual(Buffer.from(secret));
	});

	it("draws a fresh nonce for every seal: 10k seals, no repeats (R-ST-2)", () => {
		const nonces = new Set<string>();
		for (let i = 0; i < 10_000; i++) nonces.add(sealSecret({ keyring, plaintext: secret, associatedData: "r", random }).split(".")[2]!);
		expect(nonces.size).toBe(10_000);
	});
});
