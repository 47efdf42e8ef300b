import { generateId } from "../core/id.js";
import { maskEmailAddress } from "../core/masked-email.js";
import { generateNumericCode, oneTimeCodeHash, renderTemplate } from "../core/one-time-code.js";
import type { ChallengeTable } from "../store/tables.js";
import { isLocked } from "./attempt-budget.js";
import type { ServiceDeps } from "./deps.js";
import { appendEvent } from "./events.js";
import { fieldError, ServiceError } from "../contract/service-error.js";
import type { TenantContext } from "./tenant-context.js";

/**
 * Email one-time codes (issue 5, R-EM-1…5): low assurance, off by default.
 * Six digits from the CSPRNG, kept only as an HMAC bound to the challenge,
 * valid ten minutes, once, and only the newest; sending is limited per user
 * and per tenant and refused while the user is locked. The address is used
 * for the message and not kept, unless the tenant opts in (email.store_address).
 */
export const EMAIL_CODE_DIGITS = 6;
export const EMAIL_CODE_TTL_MS = 10 * 60 * 1000;
/** Sends allowed per window: a user gets a few resends, a tenant a bounded volume (R-EM-5). */
export const EMAIL_SEND_WINDOW_MS = 10 * 60 * 1000;
export const EMAIL_SENDS_PER_USER = 3;
export const EMAIL_SENDS_PER_TENANT = 1000;

const ADDRESS = /^[^\s@<>()[\],;:"\\]+@[^\s@<>()[\],;:"\\]+\.[^\s@<>()[\],;:"\\]+$/;

/** A plain address (no display name, no comments): what a message is sent to. */
export const isEmailAddress = (text: string): boolean => text.length <= 254 && ADDRESS.test(text);
/** What a 400 says an address must be (never the address given). */
export const EMAIL_EXPECTED = "must be a plain email address, name@domain.example";

export async function createEmailChallenge(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	to: string,
): Promise<{ challenge: { id: string; expires_at: string }; email: { sent: true } }> {
	if (!ctx.settings.email.enabled) throw new ServiceError("email_not_enabled");
	const mailer = deps.mailer;
	if (mailer === null) throw new ServiceError("email_not_configured");
	if (!isEmailAddress(to)) throw fieldError("invalid_email_address", "/to", EMAIL_EXPECTED);

	const now = deps.clock().getTime();
	const id = generateId("chl", deps.random);
	const code = generateNumericCode(deps.random, EMAIL_CODE_DIGITS);
	const row: ChallengeTable = {
		tenant_id: ctx.tenantId,
		user_id: userId,
		id,
		ceremony: "email",
		factor_id: null,
		challenge: oneTimeCodeHash(deps.keyring.codeMacKey, { tenantId: ctx.tenantId, userId, challengeId: id }, code),
		user_handle: null,
		created_at: now,
		expires_at: now + EMAIL_CODE_TTL_MS,
		consumed_at: null,
	};
	await deps.store.transaction(async (tx) => {
		await tx.users.ensure(ctx.tenantId, userId, now);
		const state = await tx.users.lockForAttempt(ctx.tenantId, userId);
		// R-EM-5: a locked user gets the locked error and no message (WordPress/two-factor#917).
		if (state !== undefined && isLocked(state.user)) throw new ServiceError("locked");
		const since = now - EMAIL_SEND_WINDOW_MS;
		if ((await tx.challenges.countSince(ctx.tenantId, userId, "email", since)) >= EMAIL_SENDS_PER_USER) throw new ServiceError("too_many_emails", { retryAfterSeconds: EMAIL_SEND_WINDOW_MS / 1000 });
		if ((await tx.challenges.countSince(ctx.tenantId, null, "email", since)) >= EMAIL_SENDS_PER_TENANT) throw new ServiceError("too_many_emails", { retryAfterSeconds: 60 });
		await tx.challenges.deleteStale(ctx.tenantId, userId, now);
		// R-EM-3: only the newest code is valid; the failure count is the user's and is not touched.
		await tx.challenges.revokeOpen(ctx.tenantId, userId, "email", now);
		await tx.challenges.insert(row);
		if (ctx.settings.email.store_address) await tx.users.setEmail(ctx.tenantId, userId, to);
		await appendEvent(tx, deps.random, now, { tenantId: ctx.tenantId, userId, type: "email_code.sent", data: { challenge_id: id } });
	});
	const values = { code, tenant: ctx.tenantName, minutes: String(EMAIL_CODE_TTL_MS / 60_000) };
	const { email } = ctx.settings;
	try {
		await mailer.send({ to, subject: renderTemplate(email.subject, values, false), text: renderTemplate(email.text, values, false), html: renderTemplate(email.html, values, true) });
	} catch (error) {
		// Not sent: the code must not stay valid somewhere nobody can read it.
		await deps.store.challenges.consume(ctx.tenantId, userId, id, "email", deps.clock().getTime());
		throw new ServiceError("email_not_sent", { cause: error });
	}
	return { challenge: { id, expires_at: new Date(row.expires_at).toISOString() }, email: { sent: true } };
}

/**
 * The address a code may go to without the caller naming one (the hosted prompt, issue 15, which gets no address
 * from the application): the one stored for the user, and only while the tenant has email codes on, keeps
 * addresses (email.store_address) and mail is configured. Null otherwise: then nothing may be offered.
 */
async function storedAddress(deps: ServiceDeps, ctx: TenantContext, userId: string): Promise<string | null> {
	const { email } = ctx.settings;
	if (!email.enabled || !email.store_address || deps.mailer === null) return null;
	const user = await deps.store.users.find(ctx.tenantId, userId);
	const address = user?.email ?? null;
	return address !== null && isEmailAddress(address) ? address : null;
}

/** Whether a code can be sent to the stored address, and that address masked (a***@example.com): never the address itself. */
export async function storedEmailOffer(deps: ServiceDeps, ctx: TenantContext, userId: string): Promise<{ masked_address: string } | null> {
	const address = await storedAddress(deps, ctx, userId);
	return address === null ? null : { masked_address: maskEmailAddress(address) };
}

/**
 * Sends a code to the stored address through createEmailChallenge, so the same limits, lock check, single newest
 * code and events apply (R-EM-2…5). Null, and nothing sent, when there is no address to send to (storedEmailOffer).
 */
export async function sendEmailCodeToStoredAddress(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
): Promise<{ challenge: { id: string; expires_at: string }; email: { sent: true; masked_address: string } } | null> {
	const address = await storedAddress(deps, ctx, userId);
	if (address === null) return null;
	const sent = await createEmailChallenge(deps, ctx, userId, address);
	return { challenge: sent.challenge, email: { sent: true, masked_address: maskEmailAddress(address) } };
}
