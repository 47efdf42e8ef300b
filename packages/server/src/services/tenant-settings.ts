import type { HashAlgorithm } from "../core/hotp.js";

/** Per-tenant policy, stored as JSON on the tenant row. Wire names are snake_case and stable. */
export interface TenantSettings {
	issuer: string;
	totp: { algorithm: HashAlgorithm; digits: number; period: number; window: number };
	attempts: { throttle_after: number; lock_after: number };
	pending_factor_ttl_seconds: number;
}

export type TenantSettingsPatch = {
	issuer?: string;
	totp?: Partial<TenantSettings["totp"]>;
	attempts?: Partial<TenantSettings["attempts"]>;
	pending_factor_ttl_seconds?: number;
};

/**
 * Defaults. window 1 accepts steps T-1..T+1 (RFC 6238 §5.2 allows one step of
 * drift) and single use (R-OTP-1) closes the replay gap. lock_after 100 is
 * NIST 63B-4 §3.2.2's upper bound; tenants may only go lower (bounds live in
 * the PATCH schema).
 */
export function defaultTenantSettings(issuer: string): TenantSettings {
	return {
		issuer,
		totp: { algorithm: "SHA1", digits: 6, period: 30, window: 1 },
		attempts: { throttle_after: 5, lock_after: 100 },
		pending_factor_ttl_seconds: 900,
	};
}

export function parseTenantSettings(json: string, fallbackIssuer: string): TenantSettings {
	return mergeTenantSettings(defaultTenantSettings(fallbackIssuer), JSON.parse(json) as TenantSettingsPatch);
}

export function mergeTenantSettings(base: TenantSettings, patch: TenantSettingsPatch): TenantSettings {
	return {
		issuer: patch.issuer ?? base.issuer,
		totp: { ...base.totp, ...patch.totp },
		attempts: { ...base.attempts, ...patch.attempts },
		pending_factor_ttl_seconds: patch.pending_factor_ttl_seconds ?? base.pending_factor_ttl_seconds,
	};
}
