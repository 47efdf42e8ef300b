import { parseArgs } from "node:util";
import { createApp } from "../app.js";
import { fenceAfterRestore } from "../services/restore-fence.js";
import type { Command } from "./command.js";

export const restoreFence: Command = {
	name: "restore-fence",
	summary: "after restoring a backup, before any node starts: make every code used since the backup unusable (D-6)",
	usage:
		"twofold restore-fence [--revoke-recovery-codes] [--hotp-advance N] [--json]\n" +
		"    raises every TOTP factor's last used step past now, advances every HOTP counter by N (default: the\n" +
		"    tenant's hotp.look_ahead + 1; pass more if more HOTP codes were used since the backup), ends open WebAuthn challenges and email codes,\n" +
		"    replaces the assertion signing key (older assertions stop verifying), and records service.restore_fenced\n" +
		"    per tenant. --revoke-recovery-codes also revokes every unused recovery code: the ones used since\n" +
		"    the backup cannot be told apart (users regenerate; see docs/deploy.md)",
	async run(argv, config, out) {
		const { values } = parseArgs({ args: argv, options: { json: { type: "boolean" }, "revoke-recovery-codes": { type: "boolean" }, "hotp-advance": { type: "string" } }, strict: true });
		const hotpAdvance = values["hotp-advance"];
		// Whole numbers only, and at most a million presses: anything else is a typo, not a policy.
		if (hotpAdvance !== undefined && (!/^[0-9]{1,7}$/.test(hotpAdvance) || Number(hotpAdvance) > 1_000_000)) {
			out.stderr("twofold restore-fence: --hotp-advance must be a whole number from 0 to 1000000");
			return 1;
		}
		const app = await createApp(config);
		try {
			const report = await fenceAfterRestore(app.services.deps, {
				revokeRecoveryCodes: values["revoke-recovery-codes"] === true,
				...(hotpAdvance === undefined ? {} : { hotpAdvance: Number(hotpAdvance) }),
			});
			if (values.json) {
				out.stdout(JSON.stringify(report));
				return 0;
			}
			out.stdout(
				[
					`restore fence at ${report.fenced_at}:`,
					`  ${report.totp_factors_fenced} TOTP factors fenced (their users' next code works within one period)`,
					`  ${report.hotp_factors_fenced} HOTP factors fenced: counters advanced by ${report.hotp_counters_advanced_by ?? "each tenant's hotp.look_ahead + 1"} (their users press the token forward until a code verifies)`,
					`  ${report.challenges_revoked} open WebAuthn challenges and email codes ended`,
					`  new signing key ${report.signing_key}; ${report.signing_keys_withdrawn.length} older keys withdrawn (assertions issued before the restore are refused)`,
					report.recovery_code_users_revoked === null
						? "  recovery codes NOT revoked: codes used since the backup work once more. Tell your users, or rerun with --revoke-recovery-codes"
						: `  unused recovery codes revoked for ${report.recovery_code_users_revoked} users: they need new codes (POST /v1/users/{id}/recovery-codes)`,
					`  service.restore_fenced recorded for ${report.tenants_notified} tenants`,
					"Also redo what was done since the backup and is now undone: API key revocations, factor removals, admin resets.",
				].join("\n"),
			);
			return 0;
		} finally {
			await app.close();
		}
	},
};
