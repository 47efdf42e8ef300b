import { openFactorSecret } from "../factors/factor-secret.js";
import type { FactorTable } from "../store/tables.js";
import type { ExportToken } from "../token-files/export-token.js";
import { otpauthHeader, otpauthLine } from "../token-files/otpauth-writer.js";
import { PSKCWriter } from "../token-files/pskc-writer.js";
import type { ServiceDeps } from "./deps.js";
import { appendEvent } from "./events.js";
import { requireAdmin } from "./require-admin.js";
import type { TenantContext } from "./tenant-context.js";

/**
 * Twofold's export (issue 17): every active TOTP and HOTP factor of a tenant (or of the listed users), as a PSKC file
 * encrypted with a passphrase (token-files/pskc-writer.ts) or as plaintext otpauth URIs (otpauth-writer.ts), for leaving
 * Twofold or moving users to another tenant. Admin only (ADR 0004): an export is every user's second factor.
 *
 * Users are read in pages of PAGE_USERS; for each page, the `factor.exported` events (one per user, with the format
 * and the factor ids, never a secret) commit BEFORE any secret of the page is written: an export that fails
 * midway may have audited users it did not write, never the other way round. WebAuthn factors cannot be exported
 * (their private key never leaves the authenticator) and are counted in the result instead.
 */

export type ExportFormat = "pskc" | "otpauth";

export interface ExportOptions {
	format: ExportFormat;
	/** Only these users (the application's ids); all users with an active factor otherwise. */
	userIds?: string[];
	/** PSKC: the passphrase the key is derived from (PBKDF2, RFC 6030 §6.2). Required for PSKC. */
	passphrase?: string;
}

export interface ExportResult {
	/** Users written (with at least one TOTP or HOTP factor). */
	users: number;
	/** Factors written. */
	factors: number;
	/** Active WebAuthn factors left out: a passkey cannot be exported. */
	webauthn_not_exported: number;
	/** Users with only WebAuthn factors, so not in the file at all. */
	users_without_exportable_factor: number;
	/** Listed users (userIds) with no active factor at all, or unknown: not in the file. */
	listed_users_not_found: number;
}

/** Users per page: one transaction of audit events, then their factors written (bounded memory for 100,000 users). */
export const PAGE_USERS = 500;

export async function runExport(deps: ServiceDeps, ctx: TenantContext, options: ExportOptions, out: (chunk: string) => Promise<void>): Promise<ExportResult> {
	requireAdmin(ctx);
	if (options.format === "pskc" && (options.passphrase === undefined || options.passphrase === "")) throw new TypeError("a PSKC export needs a passphrase");
	const issuer = ctx.tenantName;
	const writer = options.format === "pskc" ? await PSKCWriter.create(options.passphrase!, deps.random) : null;
	const result: ExportResult = { users: 0, factors: 0, webauthn_not_exported: 0, users_without_exportable_factor: 0, listed_users_not_found: 0 };
	try {
		await out(writer === null ? otpauthHeader(issuer, deps.clock()) : writer.header());
		for await (const page of pages(deps, ctx, options.userIds)) {
			const tokens = await auditPage(deps, ctx, options.format, page, result);
			try {
				// One string per page: fewer, larger writes (a page is at most 500 users).
				let chunk = "";
				for (const token of tokens) {
					chunk += writer === null ? otpauthLine(token, issuer) : writer.keyPackage(token, issuer);
					result.factors += 1;
				}
				await out(chunk);
			} finally {
				for (const token of tokens) token.secret.fill(0);
			}
		}
		if (writer !== null) await out(writer.footer());
	} finally {
		writer?.close();
	}
	return result;
}

/** The listed users in sorted chunks, or every user with an active factor, a page of users at a time. */
async function* pages(deps: ServiceDeps, ctx: TenantContext, userIds: string[] | undefined): AsyncGenerator<{ factors: FactorTable[]; listed?: readonly string[] }> {
	if (userIds !== undefined) {
		const listed = [...new Set(userIds)].sort();
		for (let start = 0; start < listed.length; start += PAGE_USERS) {
			const chunk = listed.slice(start, start + PAGE_USERS);
			yield { factors: await deps.store.factors.activeForExport(ctx.tenantId, { afterUserId: null, limit: chunk.length, userIds: chunk }), listed: chunk };
		}
		return;
	}
	let after: string | null = null;
	for (;;) {
		const factors = await deps.store.factors.activeForExport(ctx.tenantId, { afterUserId: after, limit: PAGE_USERS });
		if (factors.length === 0) return;
		yield { factors };
		after = factors[factors.length - 1]!.user_id;
	}
}

/**
 * In one transaction: re-reads the page's factors (one deleted meanwhile is not exported), appends one
 * `factor.exported` per user, and opens the secrets. Returns the tokens to write; the caller zeroes them.
 */
async function auditPage(deps: ServiceDeps, ctx: TenantContext, format: ExportFormat, page: { factors: FactorTable[]; listed?: readonly string[] }, result: ExportResult): Promise<ExportToken[]> {
	const userIds = [...new Set(page.factors.map((factor) => factor.user_id))];
	if (page.listed !== undefined) result.listed_users_not_found += page.listed.length - userIds.length;
	if (userIds.length === 0) return [];
	const tokens: ExportToken[] = [];
	try {
		await deps.store.transaction(async (tx) => {
			for (const token of tokens) token.secret.fill(0);
			tokens.length = 0;
			const now = deps.clock().getTime();
			const current = await tx.factors.activeForExport(ctx.tenantId, { afterUserId: null, limit: userIds.length, userIds });
			const byUser = new Map<string, FactorTable[]>();
			for (const factor of current) byUser.set(factor.user_id, [...(byUser.get(factor.user_id) ?? []), factor]);
			for (const [userId, factors] of byUser) {
				const exportable = factors.filter((factor) => (factor.type === "totp" || factor.type === "hotp") && factor.secret_envelope !== null);
				const webauthn = factors.length - exportable.length;
				if (exportable.length === 0) continue;
				await appendEvent(tx, deps.random, now, {
					tenantId: ctx.tenantId,
					userId,
					type: "factor.exported",
					data: { format, factor_ids: exportable.map((factor) => factor.id), types: exportable.map((factor) => factor.type), webauthn_not_exported: webauthn, actor_key_id: ctx.keyId },
				});
				for (const factor of exportable) tokens.push(tokenOf(deps, factor));
			}
		});
	} catch (error) {
		for (const token of tokens) token.secret.fill(0);
		throw error;
	}
	// Counted from what was written, outside the transaction (which may run its function again).
	const written = new Set(tokens.map((token) => token.userId));
	result.users += written.size;
	for (const factor of page.factors) if (factor.type === "webauthn") result.webauthn_not_exported += 1;
	result.users_without_exportable_factor += userIds.filter((userId) => !written.has(userId)).length;
	return tokens;
}

function tokenOf(deps: ServiceDeps, factor: FactorTable): ExportToken {
	const secret = openFactorSecret(deps.keyring, factor, factor.secret_envelope!);
	const token: ExportToken = {
		userId: factor.user_id,
		factorId: factor.id,
		type: factor.type as "totp" | "hotp",
		secret,
		algorithm: factor.algorithm ?? "SHA1",
		digits: factor.digits ?? 6,
		label: factor.label,
	};
	if (factor.type === "totp") token.period = factor.period ?? 30;
	// HOTP: last_used_step is the last accepted counter, so the next code's counter is one more (RFC 4226 §5.2). A token
	// imported without a counter and not yet resynchronized has none to give: left out, it is imported needing a resync again.
	else if (factor.needs_resync !== 1) token.counter = factor.last_used_step + 1;
	return token;
}
