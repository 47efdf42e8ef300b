import { describe, expect, it } from "vitest";
import { ACR, acrFor, amrFor, assertionClaims, MAX_ASSERTION_TTL_SECONDS, type VerifiedProof } from "./assertion-claims.js";

const totp: VerifiedProof = { method: "totp", factorId: "fac_totp" };
const hotp: VerifiedProof = { method: "hotp", factorId: "fac_hotp" };
const passkey = (deviceBound: boolean, userVerified: boolean): VerifiedProof => ({ method: "webauthn", factorId: "fac_key", deviceBound, userVerified });
const recoveryCode: VerifiedProof = { method: "recovery_code" };
const email: VerifiedProof = { method: "email" };

describe("amrFor: RFC 8176 methods for what was verified (R-AS-1)", () => {
	it("names each proof by its own method, and nothing it did not verify", () => {
		expect(amrFor(totp, false)).toStrictEqual(["otp"]);
		expect(amrFor(hotp, false)).toStrictEqual(["otp"]);
		expect(amrFor(recoveryCode, false)).toStrictEqual(["rcode"]);
		expect(amrFor(email, false)).toStrictEqual(["email"]);
		// "user" only when the authenticator verified the user; "hwk" only for a key held in hardware.
		expect(amrFor(passkey(true, true), false)).toStrictEqual(["hwk", "user"]);
		expect(amrFor(passkey(true, false), false)).toStrictEqual(["hwk"]);
		expect(amrFor(passkey(false, true), false)).toStrictEqual(["swk", "user"]);
		expect(amrFor(passkey(false, false), false)).toStrictEqual(["swk"]);
	});

	it('adds "mfa" last, only when the caller says a first factor passed', () => {
		expect(amrFor(totp, true)).toStrictEqual(["otp", "mfa"]);
		expect(amrFor(hotp, true)).toStrictEqual(["otp", "mfa"]);
		expect(amrFor(recoveryCode, true)).toStrictEqual(["rcode", "mfa"]);
		expect(amrFor(email, true)).toStrictEqual(["email", "mfa"]);
		expect(amrFor(passkey(true, true), true)).toStrictEqual(["hwk", "user", "mfa"]);
		expect(amrFor(passkey(false, false), true)).toStrictEqual(["swk", "mfa"]);
	});
});

describe("acrFor: never above what was verified (R-AS-4)", () => {
	it("gives the phishing-resistant level to WebAuthn only", () => {
		expect(acrFor(passkey(false, false))).toBe(ACR.phishingResistant);
		expect(acrFor(passkey(true, true))).toBe(ACR.phishingResistant);
		expect(acrFor(totp)).toBe(ACR.otp);
		expect(acrFor(hotp)).toBe(ACR.otp);
		expect(acrFor(recoveryCode)).toBe(ACR.recoveryCode);
		expect(acrFor(email)).toBe(ACR.email);
	});
});

describe("assertionClaims (R-AS-1, R-AS-3)", () => {
	const input = { issuer: "https://2fa.example.com", tenantId: "ten_a", userId: "user-1", firstFactorPassed: false, jti: "jti-1", nowInSeconds: 1_800_000_000, ttlSeconds: 300 };

	it("carries exactly the contract's claims, the factor verified and the action approved", () => {
		expect(assertionClaims({ ...input, audience: "api://payments", proof: totp, actionHash: "hash-1" })).toStrictEqual({
			iss: "https://2fa.example.com",
			sub: "user-1",
			aud: "api://payments",
			tid: "ten_a",
			iat: 1_800_000_000,
			exp: 1_800_000_300,
			auth_time: 1_800_000_000,
			jti: "jti-1",
			amr: ["otp"],
			acr: ACR.otp,
			factor_id: "fac_totp",
			action_hash: "hash-1",
		});
	});

	it("names the factor for TOTP, HOTP and WebAuthn, and no factor for a recovery code or an email code", () => {
		expect(assertionClaims({ ...input, proof: hotp }).factor_id).toBe("fac_hotp");
		expect(assertionClaims({ ...input, proof: passkey(true, true) }).factor_id).toBe("fac_key");
		for (const proof of [recoveryCode, email]) expect(Object.keys(assertionClaims({ ...input, proof }))).not.toContain("factor_id");
	});

	it("has no action_hash claim, not even an undefined one, when no action was approved", () => {
		const claims = assertionClaims({ ...input, proof: totp });
		expect(Object.keys(claims)).not.toContain("action_hash");
		expect(claims.aud).toBe("ten_a"); // the default audience is the tenant
	});

	it("caps the lifetime at MAX_ASSERTION_TTL_SECONDS whatever the caller asks (R-AS-3)", () => {
		expect(assertionClaims({ ...input, proof: totp, ttlSeconds: MAX_ASSERTION_TTL_SECONDS }).exp).toBe(input.nowInSeconds + MAX_ASSERTION_TTL_SECONDS);
		expect(assertionClaims({ ...input, proof: totp, ttlSeconds: MAX_ASSERTION_TTL_SECONDS + 1 }).exp).toBe(input.nowInSeconds + MAX_ASSERTION_TTL_SECONDS);
		expect(assertionClaims({ ...input, proof: totp, ttlSeconds: 30 }).exp).toBe(input.nowInSeconds + 30);
	});
});
