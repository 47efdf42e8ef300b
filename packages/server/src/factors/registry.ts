import { emailCode } from "./email-code/kind.js";
import { hotpFactor } from "./hotp/factor.js";
import { hotp } from "./hotp/kind.js";
import type { FactorKind } from "./factor-kind.js";
import type { AnyProofKind, Claimed, FactorType, ProofInput } from "./proof-kind.js";
import { recoveryCode } from "./recovery-codes/kind.js";
import { stepUp } from "./step-up/kind.js";
import { totpFactor } from "./totp/factor.js";
import { totp } from "./totp/kind.js";
import { webauthnFactor } from "./webauthn/factor.js";
import { webauthn } from "./webauthn/kind.js";

/**
 * Every kind of proof, in the order they claim a request's proof fields (ADR 0007). The order matters only
 * where shapes overlap: an assertion beside anything is malformed (step-up first); challenge_id with a code is
 * an email code, with a credential a WebAuthn assertion; six to eight digits are a typed code (every code kind
 * is tried), anything else that normalizes is a recovery code.
 */
export const PROOF_KINDS: readonly AnyProofKind[] = [stepUp, emailCode, webauthn, totp, hotp, recoveryCode];

/** Every factor type's lifecycle; the type system refuses a factor type without one. */
export const FACTOR_KINDS = {
	totp: totpFactor,
	hotp: hotpFactor,
	webauthn: webauthnFactor,
} satisfies { [type in FactorType]: FactorKind<never, unknown> };

/**
 * The kinds that claim what was presented: the first claimant decides the presentation, and every later kind of
 * the same presentation is tried too (a typed code may be any code factor's). "malformed": no kind takes it, or
 * the one whose shape it has finds it malformed (V-2: a malformed proof is a failed attempt like any other).
 */
export function claimProof(input: ProofInput): readonly Claimed[] | "malformed" {
	const claimed: Claimed[] = [];
	for (const kind of PROOF_KINDS) {
		if (claimed.length > 0 && kind.presentation !== claimed[0]!.kind.presentation) continue;
		if (!kind.fields.some((field) => input[field] !== undefined)) continue;
		const presented = kind.claim(input);
		if (presented === undefined) continue;
		if (presented === "malformed") return "malformed";
		claimed.push({ kind, presented });
	}
	return claimed.length === 0 ? "malformed" : claimed;
}
