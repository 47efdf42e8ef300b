import { generateKeyPairSync } from "node:crypto";
import { CompactSign, compactVerify } from "jose";
import { describe, expect, it } from "vitest";
import { signCompactJWS } from "./compact-jws.js";

describe("signCompactJWS (RFC 7515 §7.1, RFC 8037)", () => {
	it("produces exactly the token jose's CompactSign produces for the same header, payload and Ed25519 key, and jose verifies it", async () => {
		const { privateKey, publicKey } = generateKeyPairSync("ed25519");
		const header = { alg: "EdDSA", kid: "sk_test", typ: "twofold-assertion+jwt" };
		for (const payload of [{}, { sub: "alice", n: 1, amr: ["otp"], nested: { "é": "ü\u2028" } }, { jti: "x".repeat(600) }]) {
			const ours = await signCompactJWS(header, payload, privateKey);
			const theirs = await new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader(header).sign(privateKey);
			expect(ours).toBe(theirs);
			const verified = await compactVerify(ours, publicKey, { algorithms: ["EdDSA"] });
			expect(JSON.parse(Buffer.from(verified.payload).toString("utf8"))).toEqual(payload);
			expect(verified.protectedHeader).toEqual(header);
		}
	});

	it("refuses a key that is not a private key", async () => {
		const { publicKey } = generateKeyPairSync("ed25519");
		await expect(signCompactJWS({ alg: "EdDSA" }, {}, publicKey)).rejects.toThrow();
	});
});
