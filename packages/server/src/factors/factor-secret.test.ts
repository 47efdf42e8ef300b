import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openSecret, sealSecret } from "../core/envelope.js";
import { createKeyring } from "../core/keyring.js";
import { factorAssociatedData, openFactorSecret, sealFactorSecret } from "./factor-secret.js";

const row = { tenant_id: "ten_1", user_id: "alice", id: "fac_1" };

describe("a factor secret's envelope binding (R-ST-2)", () => {
	it("is the fixed associated data every stored TOTP/HOTP secret was sealed with: changing it would leave them unopenable", () => {
		const keyring = createKeyring([randomBytes(32)]);
		const secret = randomBytes(20);
		expect(factorAssociatedData(row)).toBe('["factor-secret","ten_1","alice","fac_1"]');
		// Sealed by hand with that text, as an earlier release stored it: opened by the factor path.
		const stored = sealSecret({ keyring, plaintext: secret, associatedData: '["factor-secret","ten_1","alice","fac_1"]', random: randomBytes });
		expect(Buffer.from(openFactorSecret(keyring, row, stored))).toEqual(secret);
		// And the factor path's envelope opens under that text only, not under another row's.
		const sealed = sealFactorSecret(keyring, randomBytes, row, secret);
		expect(Buffer.from(openSecret(keyring, sealed, '["factor-secret","ten_1","alice","fac_1"]'))).toEqual(secret);
		for (const other of [{ ...row, tenant_id: "ten_2" }, { ...row, user_id: "bob" }, { ...row, id: "fac_2" }]) {
			expect(() => openFactorSecret(keyring, other, sealed), JSON.stringify(other)).toThrow();
		}
	});
});
