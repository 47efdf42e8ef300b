import type { Generated } from "kysely";

/** Row types as stored. Times are integer milliseconds since the Unix epoch (UTC). */
export interface TenantTable {
	id: string;
	name: string;
	/** JSON text of TenantSettings. */
	settings: string;
	created_at: number;
}

export interface APIKeyTable {
	id: string;
	tenant_id: string;
	secret_hash: string;
	scope: "default" | "admin";
	created_at: number;
	revoked_at: number | null;
}

export interface UserTable {
	tenant_id: string;
	id: string;
	created_at: number;
	/** Consecutive failures across every factor (R-OTP-6); reset only by a success or an admin unlock. */
	failed_attempts: number;
	/** Throttle: no attempt is evaluated before this time. */
	next_attempt_at: number;
	locked_at: number | null;
}

export interface FactorTable {
	id: string;
	tenant_id: string;
	user_id: string;
	type: "totp";
	status: "pending" | "active" | "deleted";
	label: string;
	/** AES-256-GCM envelope bound to (tenant, user, factor); null once deleted. */
	secret_envelope: string | null;
	algorithm: "SHA1" | "SHA256" | "SHA512";
	digits: number;
	period: number;
	/** The highest time step accepted so far; -1 before the first (R-OTP-1). */
	last_used_step: number;
	created_at: number;
	expires_at: number | null;
	activated_at: number | null;
	last_used_at: number | null;
	deleted_at: number | null;
}

export interface RecoveryCodeTable {
	id: string;
	tenant_id: string;
	user_id: string;
	salt: string;
	hash: string;
	created_at: number;
	used_at: number | null;
}

export interface EventTable {
	seq: Generated<number>;
	id: string;
	tenant_id: string;
	user_id: string | null;
	type: string;
	factor_id: string | null;
	/** JSON text; never holds secrets or codes (R-ST-4). */
	data: string;
	created_at: number;
}

export interface Database {
	tenants: TenantTable;
	api_keys: APIKeyTable;
	users: UserTable;
	factors: FactorTable;
	recovery_codes: RecoveryCodeTable;
	events: EventTable;
}
