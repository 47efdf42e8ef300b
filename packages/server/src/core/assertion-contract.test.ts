// The shared contract (issue 14) tested through the server's link to it; the SDK's link is the same file.
import { describe, expect, it } from "vitest";
import { malformedClaims, REQUIRED_CLAIMS } from "./assertion-contract.js";

const wellFormed = { iss: "https://2fa.example.com", sub: "user-1", aud: "ten_a", tid: "ten_a", iat: 1, exp: 2, auth_time: 1, jti: "j", amr: ["otp"], acr: "urn:twofold:acr:otp" };

describe("malformedClaims: the required claims every verifier checks (R-AS-1)", () => {
	it("finds nothing wrong in a well-formed claims set, with or without extra claims, and with an empty amr", () => {
		expect(malformedClaims(wellFormed)).toStrictEqual([]);
		expect(malformedClaims({ ...wellFormed, factor_id: "fac_x", action_hash: "h", extra: 1 })).toStrictEqual([]);
		expect(malformedClaims({ ...wellFormed, amr: [] })).toStrictEqual([]);
	});

	it("names every missing claim, in the contract's order", () => {
		expect(malformedClaims({})).toStrictEqual(Object.keys(REQUIRED_CLAIMS));
		expect(malformedClaims({ ...wellFormed, sub: undefined, acr: undefined })).toStrictEqual(["sub", "acr"]);
	});

	it("names a claim of another JSON type", () => {
		expect(malformedClaims({ ...wellFormed, iss: 1, exp: "2" })).toStrictEqual(["iss", "exp"]);
		expect(malformedClaims({ ...wellFormed, iat: null, jti: ["j"] })).toStrictEqual(["iat", "jti"]);
	});

	it("takes amr only as an array of strings", () => {
		expect(malformedClaims({ ...wellFormed, amr: "otp" })).toStrictEqual(["amr"]);
		expect(malformedClaims({ ...wellFormed, amr: { 0: "otp", length: 1 } })).toStrictEqual(["amr"]);
		expect(malformedClaims({ ...wellFormed, amr: ["otp", 1] })).toStrictEqual(["amr"]);
		expect(malformedClaims({ ...wellFormed, amr: [1] })).toStrictEqual(["amr"]);
	});
});
