import { ACR } from "./assertion-claims.js";

/**
 * The one strength order of proofs (issue 12, R-LC-1, R-LC-4, R-RC-5, R-EM-1), published in
 * docs/assertions.md. Pure: callers pass what was presented and what the user holds.
 *
 *   phishing-resistant (WebAuthn with user verification)  3
 *   OTP (TOTP; WebAuthn without user verification)         2
 *   recovery code                                          1
 *   email code                                             0  (never authorizes a factor change, R-EM-1)
 *
 * WebAuthn without user verification proves possession of a key only (R-WA-5: only UV=1 counts as
 * multi-factor), so it ranks with the other possession proofs, at the OTP level.
 */
export const STRENGTH = { email: 0, recoveryCode: 1, otp: 2, phishingResistant: 3 } as const;
export type Strength = (typeof STRENGTH)[keyof typeof STRENGTH];

/** The weakest proof that may ever authorize a factor change: a recovery code. Email is below it (R-EM-1). */
const FLOOR: Strength = STRENGTH.recoveryCode;

/** What a proof presented directly in a request is. */
export type PresentedProof = { kind: "otp" } | { kind: "recovery" } | { kind: "email" } | { kind: "webauthn"; userVerified: boolean };

export function strengthOfPresented(proof: PresentedProof): Strength {
	switch (proof.kind) {
		case "otp":
			return STRENGTH.otp;
		case "recovery":
			return STRENGTH.recoveryCode;
		case "email":
			return STRENGTH.email;
		case "webauthn":
			return proof.userVerified ? STRENGTH.phishingResistant : STRENGTH.otp;
	}
}

/**
 * A step-up assertion ranks as the proof it records: its acr, and for WebAuthn its amr `user` (UV). An acr
 * Twofold does not know ranks below everything, so it authorizes nothing.
 */
export function strengthOfAssertion(acr: string, amr: readonly unknown[]): Strength {
	switch (acr) {
		case ACR.phishingResistant:
			return amr.includes("user") ? STRENGTH.phishingResistant : STRENGTH.otp;
		case ACR.otp:
			return STRENGTH.otp;
		case ACR.recoveryCode:
			return STRENGTH.recoveryCode;
		default:
			return STRENGTH.email;
	}
}

/**
 * The level a factor holds the user at: what every proof from it is guaranteed to reach. A TOTP factor is OTP.
 * A WebAuthn factor is phishing-resistant when the tenant requires user verification (every assertion then has
 * UV); when UV is only preferred, a key may prove without it, so the factor is held at the OTP level, and a
 * user whose key never verifies them is never asked for more than their key can give.
 */
export function strengthOfFactor(type: "totp" | "hotp" | "webauthn", userVerificationRequired: boolean): Strength {
	return type === "webauthn" && userVerificationRequired ? STRENGTH.phishingResistant : STRENGTH.otp;
}

const strongest = (levels: readonly Strength[]): Strength | undefined =>
	levels.length === 0 ? undefined : (Math.max(...levels) as Strength);

/**
 * R-LC-1 (63B-4 §4.1.2.1): binding a new factor needs a proof at the level of the strongest factor the user
 * has or the new factor's, whichever is lower (a TOTP user adds a passkey with TOTP). undefined: the user has
 * no active factor, so the first one needs no proof.
 */
export function strengthToAdd(activeFactors: readonly Strength[], newFactor: Strength): Strength | undefined {
	const held = strongest(activeFactors);
	return held === undefined ? undefined : (Math.max(FLOOR, Math.min(held, newFactor)) as Strength);
}

/**
 * R-LC-4, R-RC-5: removing a factor or regenerating recovery codes needs a proof at least as strong as the
 * strongest factor that remains afterwards, so the change never lowers what protects the account: a user who
 * lost their passkey removes it with TOTP, one who lost their only phone removes it with a recovery code.
 * Never below a recovery code: email codes authorize no change.
 */
export function strengthToKeep(remainingFactors: readonly Strength[]): Strength {
	return Math.max(FLOOR, strongest(remainingFactors) ?? FLOOR) as Strength;
}

/** Whether a proof of `presented` strength authorizes a change that requires `required`. */
export const sufficient = (presented: Strength, required: Strength): boolean => presented >= required && presented >= FLOOR;

/** For the error message and the docs. */
export const STRENGTH_NAMES: Record<Strength, string> = {
	0: "email code",
	1: "recovery code",
	2: "one-time code",
	3: "phishing-resistant (WebAuthn with user verification)",
};
