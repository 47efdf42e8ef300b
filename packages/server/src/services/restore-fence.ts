import { totpCounter } from "../core/totp.js";
import type { Store } from "../store/store.js";
import { appendEvent } from "./events.js";
import { type KeyDeps, replaceSigningKeys } from "./signing-keys.js";
import { parseTenantSettings } from "../contract/tenant-settings.js";

export interface RestoreFenceReport {
	fenced_at: string;
	/** TOTP factors whose last used step was raised past every step a code could have been accepted for. */
	totp_factors_fenced: number;
	/** HOTP factors whose counter was advanced, and by how much (null: each tenant's hotp.look_ahead + 1). */
	hotp_factors_fenced: number;
	hotp_counters_advanced_by: number | null;
	/** Open WebAuthn challenges and email codes ended. */
	challenges_revoked: number;
	/** The new signing key, and the keys no longer published (every assertion they signed is refused). */
	signing_key: string;
	signing_keys_withdrawn: string[];
	/** With revokeRecoveryCodes: the users whose unused recovery codes were all revoked. */
	recovery_code_users_revoked: number | null;
	tenants_notified: number;
}

/**
 * `twofold restore-fence` (D-6): after restoring a backup, used codes must not
 * become valid again. A restore rewinds every "used" marker to the backup's
 * moment, so the fence invalidates by time instead, in one transaction:
 *
 * - TOTP: last_used_step becomes the current step + 1 for every factor. A code
 *   accepted before the restore was for at most its moment's step + 1 (the ±1
 *   window, R-OTP-2), so none can be accepted again; a user's next code works
 *   within one period.
 * - HOTP: a counter says nothing about time, and the restore rewound it to the
 *   backup's value, so every code accepted since then works again. Each HOTP
 *   factor's counter is advanced by hotpAdvance, by default its tenant's
 *   hotp.look_ahead + 1: past every counter one verify after the backup could
 *   have accepted (last+1 … last+1+look_ahead). An operator who knows more HOTP
 *   codes were used since (the application's webhook receiver kept the
 *   verification.succeeded events the restore lost) passes a larger number.
 *   The user's token is then behind: they press it forward until a code
 *   verifies (at most that many presses), as RFC 4226 §7.4 resync only moves
 *   forward. Safety over convenience, as for TOTP.
 * - Every open WebAuthn challenge and email code ends: one opened before the
 *   backup may have been used after it.
 * - Signing keys: a new one signs at once and all others are withdrawn, so no
 *   assertion issued before the restore verifies (the restored
 *   redeemed_assertions has lost the ones redeemed since the backup, R-AS-5).
 * - Recovery codes used after the backup cannot be known. With
 *   revokeRecoveryCodes every unused code is revoked (users regenerate);
 *   without it the operator tells users (docs/deploy.md), and each tenant gets a
 *   service.restore_fenced event (and webhook) to act on either way.
 *
 * Run it with every node stopped, before the first start on the restored data.
 */
export async function fenceAfterRestore(deps: KeyDeps, options: { revokeRecoveryCodes: boolean; hotpAdvance?: number }): Promise<RestoreFenceReport> {
	const now = deps.clock().getTime();
	return deps.store.transaction(async (tx: Store) => {
		let totpFenced = 0;
		for (const period of await tx.factors.totpPeriods()) {
			totpFenced += await tx.factors.raiseLastUsedStep(period, Number(totpCounter(now, period)) + 1);
		}
		const tenants = await tx.tenants.list();
		let hotpFenced = 0;
		for (const tenant of tenants) {
			const advance = options.hotpAdvance ?? parseTenantSettings(tenant.settings, tenant.name).hotp.look_ahead + 1;
			hotpFenced += await tx.factors.advanceHOTPCounters(tenant.id, advance);
		}
		const challengesRevoked = await tx.challenges.revokeAllOpen(now);
		const keys = await replaceSigningKeys(deps, tx, now);
		const revokedUsers = options.revokeRecoveryCodes ? await tx.recoveryCodes.revokeAllUnused(now) : null;
		for (const tenant of tenants) {
			const revokedHere = revokedUsers?.filter((user) => user.tenant_id === tenant.id).length ?? null;
			await appendEvent(tx, deps.random, now, {
				tenantId: tenant.id,
				type: "service.restore_fenced",
				data: { recovery_codes_revoked: revokedUsers !== null, users_with_recovery_codes_revoked: revokedHere },
			});
		}
		return {
			fenced_at: new Date(now).toISOString(),
			totp_factors_fenced: totpFenced,
			hotp_factors_fenced: hotpFenced,
			hotp_counters_advanced_by: options.hotpAdvance ?? null,
			challenges_revoked: challengesRevoked,
			signing_key: keys.kid,
			signing_keys_withdrawn: keys.withdrawn,
			recovery_code_users_revoked: revokedUsers?.length ?? null,
			tenants_notified: tenants.length,
		};
	});
}
