import type { Static } from "@sinclair/typebox";
import type { ResetResponse, User } from "../contract/schemas/users.js";
import { renderTemplate } from "../core/one-time-code.js";
import { isAttemptRecord, isLocked } from "./attempt-budget.js";
import type { ServiceDeps } from "./deps.js";
import { EMAIL_EXPECTED, isEmailAddress } from "./email-codes.js";
import { actorOf } from "./actor.js";
import { appendEvent } from "./events.js";
import { listFactors } from "./factors.js";
import { requireAdmin } from "./require-admin.js";
import { fieldError, ServiceError } from "../contract/service-error.js";
import type { TenantContext } from "./tenant-context.js";
import type { Store } from "../store/store.js";

export async function getUser(deps: ServiceDeps, ctx: TenantContext, userId: string): Promise<Static<typeof User>> {
	const user = await deps.store.users.find(ctx.tenantId, userId);
	// An attempt record (failed attempts on an id that never enrolled, V-12a) is not a user.
	if (user === undefined || isAttemptRecord(user)) throw new ServiceError("user_not_found");
	return {
		id: user.id,
		factors: await listFactors(deps, ctx, userId),
		recovery_codes_remaining: await deps.store.recoveryCodes.countUnused(ctx.tenantId, userId),
		locked: isLocked(user),
		created_at: new Date(user.created_at).toISOString(),
	};
}


/** The documented unlock path (R-OTP-6): admin only, audited with the key that did it. */
export async function unlockUser(deps: ServiceDeps, ctx: TenantContext, userId: string): Promise<void> {
	requireAdmin(ctx);
	const found = await deps.store.transaction(async (tx) => {
		if (!(await tx.users.unlock(ctx.tenantId, userId))) return false;
		await appendEvent(tx, deps.random, deps.clock().getTime(), {
			tenantId: ctx.tenantId,
			userId,
			type: "user.unlocked",
			data: actorOf(ctx),
		});
		return true;
	});
	if (!found) throw new ServiceError("user_not_found");
}

/**
 * Erases the user, factors and recovery codes. Admin only: with a default key
 * this would remove 2FA without any proof (V-8). Audit events stay.
 */
export async function deleteUser(deps: ServiceDeps, ctx: TenantContext, userId: string): Promise<void> {
	requireAdmin(ctx);
	const found = await deps.store.transaction(async (tx) => {
		if (!(await tx.users.delete(ctx.tenantId, userId))) return false;
		await appendEvent(tx, deps.random, deps.clock().getTime(), {
			tenantId: ctx.tenantId,
			userId,
			type: "user.deleted",
			data: actorOf(ctx),
		});
		return true;
	});
	if (!found) throw new ServiceError("user_not_found");
}

const RESET_NOTICE = {
	subject: "Two-factor authentication was turned off for your {{tenant}} account",
	text:
		"An administrator of {{tenant}} removed the two-factor authentication of your account.\n\n" +
		"If you asked for this, set it up again now. If you did not, contact {{tenant}} at once: someone may be trying to take over your account.",
};

/**
 * POST /v1/users/{id}/reset: the support path for a user who lost every factor. Admin only, with a reason;
 * removes all factors and recovery codes, revokes open challenges, audits `admin.factor_reset`, and notifies:
 * a `user.security_notice` event (hence a webhook) always, and an email when an address is given and mail is
 * configured (Discourse's critical email when 2FA is disabled). The lock state is left as it is.
 */
export async function resetUser(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	input: { reason: string; notify_email?: string },
): Promise<Static<typeof ResetResponse>> {
	requireAdmin(ctx);
	const reason = input.reason.trim();
	if (reason.length === 0) throw fieldError("proof_required", "/reason", "must not be blank");
	if (input.notify_email !== undefined && deps.mailer === null) throw new ServiceError("email_not_configured");
	let notify = input.notify_email;
	if (input.notify_email !== undefined && !isEmailAddress(input.notify_email)) throw fieldError("invalid_email_address", "/notify_email", EMAIL_EXPECTED);
	const now = deps.clock().getTime();
	const removed = await deps.store.transaction(async (tx) => {
		const user = await tx.users.find(ctx.tenantId, userId);
		if (user === undefined || isAttemptRecord(user)) return undefined;
		// Without an address from the caller, the one the tenant chose to store (email.store_address).
		notify ??= user.email ?? undefined;
		return resetFactorsInTransaction(tx, deps, ctx, userId, reason, now);
	});
	if (removed === undefined) throw new ServiceError("user_not_found");
	let emailed = false;
	if (notify !== undefined && deps.mailer !== null) {
		const values = { tenant: ctx.tenantName };
		const text = renderTemplate(RESET_NOTICE.text, values, false);
		try {
			await deps.mailer.send({
				to: notify,
				subject: renderTemplate(RESET_NOTICE.subject, values, false),
				text,
				html: `<p>${renderTemplate(RESET_NOTICE.text, values, true).replace(/\n\n/g, "</p><p>")}</p>`,
			});
			emailed = true;
		} catch {
			// The reset stands (it committed); the answer says the mail did not go, and the webhook notice went anyway.
		}
	}
	return { reset: true, factors_removed: removed, emailed };
}

/**
 * The admin reset's change, inside the caller's transaction (resetUser, and a bulk import with replace, issue 17):
 * every live factor tombstoned, the recovery codes deleted, open challenges revoked, `admin.factor_reset` audited
 * with the key and the reason, and a `user.security_notice` for the user's application (R-LC-1: an operator who
 * replaces a user's factors does it on the record). The caller has checked the admin scope and the reason. Returns
 * how many factors were removed.
 */
export async function resetFactorsInTransaction(tx: Store, deps: ServiceDeps, ctx: TenantContext, userId: string, reason: string, now: number): Promise<number> {
	const live = (await tx.factors.listForUser(ctx.tenantId, userId)).filter((factor) => factor.status !== "deleted");
	for (const factor of live) await tx.factors.markDeleted(ctx.tenantId, userId, factor.id, now);
	await tx.recoveryCodes.deleteForUser(ctx.tenantId, userId);
	const challenges = await tx.challenges.revokeOpen(ctx.tenantId, userId, null, now);
	await appendEvent(tx, deps.random, now, {
		tenantId: ctx.tenantId,
		userId,
		type: "admin.factor_reset",
		data: { ...actorOf(ctx), reason, factors_removed: live.length, challenges_revoked: challenges },
	});
	await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, userId, type: "user.security_notice", data: { reason: "admin_reset" } });
	return live.length;
}

/** At most one user.recovery_requested event an hour per user; later requests in the hour are accepted silently. */
export const RECOVERY_REQUEST_INTERVAL_MS = 60 * 60 * 1000;

/**
 * "Request a reset" on the prompt's lost-access page (issue 15): records a user.recovery_requested event, and so a
 * webhook, for the application's support staff, who then act through the admin reset (POST /v1/users/{id}/reset)
 * after checking who is asking. It changes nothing itself: no factor, code, lock or challenge is touched, and
 * nothing is bypassed. Refused (recovery_requests_disabled) when the tenant turned prompt.recovery_requests off.
 * Rate-limited per user: a request within an hour of the last recorded one is accepted but records nothing
 * (recorded: false), so a user pressing the button again, or someone pressing it for them, cannot flood the
 * support queue; the page says the same either way.
 */
export async function requestRecovery(deps: ServiceDeps, ctx: TenantContext, userId: string): Promise<{ recorded: boolean }> {
	if (!ctx.settings.prompt.recovery_requests) throw new ServiceError("recovery_requests_disabled");
	const user = await deps.store.users.find(ctx.tenantId, userId);
	// An attempt record (failed attempts on an id that never enrolled, V-12a) is not a user: there is nothing to recover.
	if (user === undefined || isAttemptRecord(user)) throw new ServiceError("user_not_found");
	return deps.store.transaction(async (tx) => {
		const now = deps.clock().getTime();
		if (!(await tx.recoveryRequests.record(ctx.tenantId, userId, now, RECOVERY_REQUEST_INTERVAL_MS))) return { recorded: false };
		const factors = (await tx.factors.listForUser(ctx.tenantId, userId)).filter((factor) => factor.status === "active").length;
		await appendEvent(tx, deps.random, now, {
			tenantId: ctx.tenantId,
			userId,
			type: "user.recovery_requested",
			data: { active_factors: factors, recovery_codes_remaining: await tx.recoveryCodes.countUnused(ctx.tenantId, userId) },
		});
		return { recorded: true };
	});
}
