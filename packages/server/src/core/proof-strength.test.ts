import { describe, expect, it } from "vitest";
import { ACR } from "./assertion-claims.js";
import { STRENGTH, strengthOfAssertion, strengthOfFactor, strengthOfPresented, strengthToAdd, strengthToKeep, sufficient } from "./proof-strength.js";

const { email, recoveryCode, otp, phishingResistant } = STRENGTH;

describe("proof strength order (issue 12, R-LC-1, R-LC-4, R-RC-5, R-EM-1)", () => {
	it("ranks phishing-resistant > OTP > recovery code > email, for codes sent directly and for assertions alike", () => {
		expect(strengthOfPresented({ kind: "webauthn", userVerified: true })).toBe(phishingResistant);
		expect(strengthOfPresented({ kind: "webauthn", userVerified: false })).toBe(otp);
		expect(strengthOfPresented({ kind: "otp" })).toBe(otp);
		expect(strengthOfPresented({ kind: "recovery" })).toBe(recoveryCode);
		expect(strengthOfPresented({ kind: "email" })).toBe(email);
		expect(strengthOfAssertion(ACR.phishingResistant, ["hwk", "user"])).toBe(phishingResistant);
		expect(strengthOfAssertion(ACR.phishingResistant, ["swk"])).toBe(otp);
		expect(strengthOfAssertion(ACR.otp, ["otp"])).toBe(otp);
		expect(strengthOfAssertion(ACR.recoveryCode, ["rcode"])).toBe(recoveryCode);
		expect(strengthOfAssertion(ACR.email, ["email"])).toBe(email);
		expect(strengthOfAssertion("urn:example:unknown", ["otp"])).toBe(email);
	});

	it("holds a WebAuthn factor at PHR only when UV is required", () => {
		expect(strengthOfFactor("webauthn", true)).toBe(phishingResistant);
		expect(strengthOfFactor("webauthn", false)).toBe(otp);
		expect(strengthOfFactor("totp", true)).toBe(otp);
	});

	it.each([
		{ held: [], adding: otp, needs: undefined },
		{ held: [otp], adding: phishingResistant, needs: otp },
		{ held: [phishingResistant], adding: otp, needs: otp },
		{ held: [phishingResistant, otp], adding: phishingResistant, needs: phishingResistant },
	])("adding: min(strongest held $held, new $adding) = $needs (R-LC-1)", ({ held, adding, needs }) => {
		expect(strengthToAdd(held, adding)).toBe(needs);
	});

	it.each([
		{ remaining: [], needs: recoveryCode },
		{ remaining: [otp], needs: otp },
		{ remaining: [otp, phishingResistant], needs: phishingResistant },
	])("removing or regenerating: the strongest that stays, at least a recovery code: $remaining -> $needs (R-LC-4)", ({ remaining, needs }) => {
		expect(strengthToKeep(remaining)).toBe(needs);
	});

	it("email never suffices, even where nothing is required above it", () => {
		expect(sufficient(email, email)).toBe(false);
		expect(sufficient(recoveryCode, recoveryCode)).toBe(true);
		expect(sufficient(otp, phishingResistant)).toBe(false);
	});
});
