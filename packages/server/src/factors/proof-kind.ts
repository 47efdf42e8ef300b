import type { AssertionClaims, VerifiedProof } from "../core/assertion-claims.js";
import type { Keyring } from "../core/keyring.js";
import type { Strength } from "../core/proof-strength.js";
import type { RandomReader } from "../core/random.js";
import type { TenantSettings } from "../contract/tenant-settings.js";
import type { Store } from "../store/store.js";
import type { FactorTable } from "../store/tables.js";
import type { AttestationTrust } from "./webauthn/attestation.js";
import type { CeremonyRefusal } from "./webauthn/ceremony-refusal.js";

/**
 * The one shape every kind of proof has (ADR 0007). A kind says what it accepts from a request (claim), what it
 * computes before the transaction (prepare: slow hashing, signature checks), how strong what was presented is
 * (for factor changes, core/proof-strength.ts), and how it decides inside the transaction (evaluate: its own
 * conditional single-use update, whose row count is the decision). The attempt path (services/proofs.ts) does
 * everything else once for all kinds: the budget, the lock, the failure events, commit-then-throw (R-ST-6).
 * Kinds never import services: what they may use comes in a ProofEnv.
 */

/** What a caller presents: a code, a WebAuthn assertion answering a challenge, or a step-up assertion. */
export interface ProofInput {
	code?: unknown;
	challenge_id?: unknown;
	credential?: unknown;
	assertion?: unknown;
	/** Two consecutive codes resynchronizing a counter-based factor (POST …/factors/{id}/resync, RFC 4226 §7.4). */
	codes?: unknown;
}

/** A proof is presented to verify, to confirm a new factor, or to authorize a factor change. */
export type Purpose = "verify" | "confirm" | "add_factor" | "delete_factor" | "regenerate_recovery_codes" | "resync";

export type FactorType = FactorTable["type"];

/**
 * The factor change a proof authorizes, for the strength order (core/proof-strength.ts): adding a factor of
 * this type, removing this factor, or changing something beside the factors (recovery codes) while all remain.
 */
export type FactorChange = { adding: FactorType } | { removing: string } | { keeping: "all" };

/** What a kind may use, given by the attempt path: the tenant's policy, the store and the keys, nothing more. */
export interface ProofEnv {
	store: Store;
	keyring: Keyring;
	random: RandomReader;
	tenantId: string;
	userId: string;
	settings: TenantSettings;
	/** A step-up assertion Twofold signed, its signature, typ and expiry checked; null otherwise. */
	readAssertion(token: unknown): Promise<AssertionClaims | null>;
	/** WebAuthn attestation trust anchors (V-15), for registrations. */
	attestationTrust?: AttestationTrust | undefined;
	/** Tells the operator why a WebAuthn response was refused; the client only learns that it was (a counted attempt). */
	ceremonyRefused(ceremony: "registration" | "authentication", refused: CeremonyRefusal): void;
}

/** Where a proof may match: the purpose, and the one factor a confirm or a targeted verify is about. */
export interface ProofScope {
	purpose: Purpose;
	/** confirm: only this pending factor may match, and matching activates it. */
	pendingFactorId?: string;
	/** verify: only this active factor is checked; resync: the factor to resynchronize. */
	factorId?: string;
	/** The user's factors as this transaction holds them. */
	factors: readonly FactorTable[];
	now: number;
}

/** Why a WebAuthn registration response did not confirm its pending factor: each is a failed attempt. */
export type RegistrationRefusal = "invalid_credential" | "credential_exists" | "factor_expired";

/** A successful proof: what it verified (for the assertion's amr and acr), and the factor it came from. */
export type ProvenBy = VerifiedProof | { method: "assertion" };

/** Something the audit trail records whatever the outcome; written by the attempt path in the same transaction. */
export interface KindEvent {
	type: "webauthn.counter_regression";
	factorId: string;
	data: Record<string, unknown>;
}

export type Evaluation =
	| { ok: true; proven: ProvenBy; factor?: FactorTable; events?: KindEvent[] }
	| { ok: false; reason: "invalid" | "invalid_assertion"; events?: KindEvent[] }
	/** An HOTP token imported without a counter (issue 17): refused until resynchronized; answered like a wrong code. */
	| { ok: false; reason: "needs_resync"; factorId: string }
	/** R-OTP-9: a correct proof already spent; answered like a wrong one, recorded as what it is. */
	| { ok: false; reason: "replay"; factorId: string | null; spentAssertion?: true }
	| { ok: false; reason: "registration_refused"; refusal: RegistrationRefusal };

/** A success a kind names before the decision: step (or counter) `step` of `factor`, consumed only if unspent (R-OTP-1). */
export interface StepEffect {
	factor: FactorTable;
	step: number;
	proven: ProvenBy;
}

/**
 * A kind's decision computed in Node, without the store (issue 19, ADR 0009): the conditional effects that would make
 * it a success, in the order its evaluate would try them, and the failure when none of them applies (a step found
 * spent is a replay). Whoever applies it (evaluatePlan in a transaction, or PostgreSQL's twofold_decide_attempt in one
 * statement) applies the first effect whose conditional update finds its row.
 */
export interface ProofPlan {
	effects: StepEffect[];
	failure: Exclude<Evaluation, { ok: true }>;
}

export interface ProofKind<Presented = unknown, Prepared = unknown> {
	/** The method in events, verify answers and assertions. */
	readonly method: ProvenBy["method"];
	/**
	 * Kinds that share a presentation (a typed code: TOTP and HOTP) are all tried in registry order; kinds of
	 * another presentation are not, whatever they would claim. One proof per request (V-2).
	 */
	readonly presentation: "code" | "recovery_code" | "email_code" | "webauthn" | "assertion" | "registration";
	/** True for a proof no clock can make wrong (a registration): it is checked even while the clock is not trusted (D-7). */
	readonly clockFree?: true;
	/** The request fields that make this kind a candidate: its claim is asked only when one of them is present. */
	readonly fields: readonly (keyof ProofInput)[];
	/** What this kind takes from the request: undefined when the input is not of its shape, "malformed" when it is, badly (V-2). */
	claim(input: ProofInput): Presented | "malformed" | undefined;
	/** Outside the transaction, only for a user who may attempt now; undefined reaches evaluate otherwise. */
	prepare?(env: ProofEnv, presented: Presented): Promise<Prepared>;
	/** How strong the presented proof is; undefined when it is refused anyway. */
	strength(presented: Presented, prepared: Prepared | undefined): Strength | undefined;
	/** Inside the attempt's transaction, after the budget check: decides and consumes. */
	evaluate(tx: Store, env: ProofEnv, presented: Presented, prepared: Prepared | undefined, scope: ProofScope): Promise<Evaluation>;
	/**
	 * Kinds whose only write is a step's conditional consumption (TOTP, HOTP) also say what evaluate would do as a plan,
	 * so a verify on PostgreSQL is decided by one statement (ADR 0009). Kinds without it keep the transactional path.
	 */
	plan?(env: ProofEnv, presented: Presented, prepared: Prepared | undefined, scope: ProofScope): ProofPlan;
}

/**
 * A plan applied inside the attempt's transaction: the first effect whose conditional update finds its row is the
 * success (a confirm activates the pending factor with it, a verify consumes the step); none: the plan's failure.
 */
export async function evaluatePlan(tx: Store, env: ProofEnv, scope: ProofScope, plan: ProofPlan): Promise<Evaluation> {
	for (const { factor, step, proven } of plan.effects) {
		// The conditional UPDATE is the linearization point: its row count is the decision (R-OTP-1, V-3).
		const consumed =
			scope.pendingFactorId !== undefined
				? await tx.factors.activate(env.tenantId, env.userId, factor.id, step, scope.now)
				: await tx.factors.consumeStep(env.tenantId, env.userId, factor.id, step, scope.now);
		if (consumed) return { ok: true, proven, factor };
	}
	return plan.failure;
}

/**
 * Any kind, for lists of kinds (the registry) and references to one (a factor's resync). `any`: each kind is checked
 * against ProofKind with its own types where it is declared (`satisfies`); a list of them has no single type for
 * what they present and prepare (claim returns it, evaluate takes it back).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProofKind = ProofKind<any, any>;

/** A kind with what it claimed and prepared, as the attempt path carries it. */
export interface Claimed {
	kind: AnyProofKind;
	presented: unknown;
	prepared?: unknown;
}

/** Factors of a type a proof may match in this scope: the pending one for a confirm, else the active ones. */
export function candidateFactors(scope: ProofScope, type: FactorType): FactorTable[] {
	return scope.factors.filter(
		(factor) =>
			factor.type === type &&
			(scope.pendingFactorId !== undefined
				? factor.id === scope.pendingFactorId && factor.status === "pending"
				: factor.status === "active" && (scope.factorId === undefined || factor.id === scope.factorId)),
	);
}
