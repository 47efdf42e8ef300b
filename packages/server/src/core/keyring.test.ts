import { hkdfSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createKeyring, masterKeyId } from "./keyring.js";

const master = () => new Uint8Array(randomBytes(32));

describe("createKeyring (R-ST-1, R-ST-3)", () => {
	it("needs at least one master key, each of exactly 32 bytes (misuse is a TypeError)", () => {
		expect(() => createKeyring([])).toThrow(new TypeError("a key ring needs at least one master key"));
		for (const length of [16, 31, 33]) expect(() => createKeyring([new Uint8Array(length)])).toThrow(new TypeError("master keys are 32 bytes"));
		// An old key of the wrong size is refused as well, not only the active one.
		expect(() => createKeyring([master(), new Uint8Array(16)])).toThrow(new TypeError("master keys are 32 bytes"));
	});

	it("seals with the first master key and keeps the others for opening", () => {
		const [active, old] = [master(), master()];
		const keyring = createKeyring([active, old]);
		expect(keyring.activeKeyId).toBe(masterKeyId(active));
		expect([...keyring.keys.keys()]).toStrictEqual([masterKeyId(active), masterKeyId(old)]);
	});

	it("derives the one-time-code MAC key with its own HKDF info, from every master key, active first (R-EM-4)", () => {
		const [active, old] = [master(), master()];
		const keyring = createKeyring([active, old]);
		// The derivation is pinned: email codes are stored as MACs under it, so a code sent before an upgrade still checks.
		const codeMacKey = (key: Uint8Array) => new Uint8Array(hkdfSync("sha256", key, new Uint8Array(0), "twofold one-time-code hmac v1", 32));
		expect(keyring.codeMacKey).toStrictEqual(codeMacKey(active));
		expect(keyring.codeMacKeys).toStrictEqual([codeMacKey(active), codeMacKey(old)]);
		// Independent of the envelope key of the same master key (RFC 5869 §3.2).
		expect(keyring.codeMacKey).not.toStrictEqual(keyring.keys.get(keyring.activeKeyId));
		// A code sent before the rotation (under the old active key) checks after it.
		expect(createKeyring([master(), active]).codeMacKeys[1]).toStrictEqual(keyring.codeMacKey);
	});
});
