import type { Store } from "../store/store.js";
import type { FactorTable } from "../store/tables.js";
import type { AnyProofKind, Claimed, FactorType, ProofEnv } from "./proof-kind.js";

/**
 * What a kind that is a factor (a row in factors, enrolled and confirmed) adds to its ProofKind (ADR 0007):
 * how a pending factor of its type is confirmed, how it enrolls, and what its public view shows beyond the
 * common fields. The lifecycle itself (binding proofs, the pending cap, events) is services/factors.ts, once.
 */
export interface FactorKind<EnrollInput = never, Enrolled = never> {
	readonly type: FactorType;
	/**
	 * The proof that activates a pending factor of this type: "code", a code from it claimed through the registry
	 * like any proof (anything else presented is refused at evaluation, and counted); or the kind's own proof,
	 * claimed and prepared here (a WebAuthn registration response).
	 */
	confirmation: "code" | ((env: ProofEnv, factor: FactorTable, input: { code?: unknown; credential?: unknown }) => Promise<readonly Claimed[]>);
	/**
	 * A new pending factor: the kind's own columns and what the enrolling caller sees once, computed before the
	 * transaction; inTransaction runs in the insert's transaction (a registration challenge, for WebAuthn).
	 */
	enroll(env: EnrollEnv, input: EnrollInput): Promise<Enrollment<Enrolled>>;
	/** Refuses (throws a ServiceError) before anything else when the tenant cannot use this kind now. */
	available?(env: ProofEnv): void;
	/** The proof that resynchronizes an active factor of this type (HOTP); without it, POST …/resync is refused. */
	resync?: AnyProofKind;
	/** Facts of the user's factors of this type for their public view, by factor id (WebAuthn: the authenticator model). */
	facts?(store: Store, tenantId: string, userId: string): Promise<ReadonlyMap<string, Record<string, unknown>>>;
}

export interface EnrollEnv extends ProofEnv {
	now: number;
	/** The new factor's id, already bound into its sealed secret (R-ST-2). */
	factorId: string;
}

/** The kind's part of a new factors row; services/factors.ts adds the ids, status and times. */
export type FactorColumns = Pick<FactorTable, "label" | "secret_envelope" | "algorithm" | "digits" | "period" | "last_used_step" | "expires_at">;

export interface Enrollment<Enrolled> {
	columns: FactorColumns;
	/** Shown once in the enroll answer, beside the factor (R-LC-7: never again). */
	answer: Enrolled;
	inTransaction?: (tx: Store) => Promise<void>;
}
