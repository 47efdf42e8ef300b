import type { Static } from "@sinclair/typebox";
import type { Tenant } from "../contract/schemas/tenant.js";
import { hasTrustAnchors } from "../factors/webauthn/attestation.js";
import { originsFitRelyingParty } from "../factors/webauthn/ceremony.js";
import { generateId } from "../core/id.js";
import { createAPIKey } from "./api-keys.js";
import type { ServiceDeps } from "./deps.js";
import { actorOf } from "./actor.js";
import { appendEvent } from "./events.js";
import type { TenantContext } from "./tenant-context.js";
import { defaultTenantSettings, mergeTenantSettings, parseTenantSettings, type TenantSettingsPatch } from "../contract/tenant-settings.js";
import { isDomainName } from "../core/domain-name.js";
import { promptPasskeysUsable } from "../core/prompt-passkeys.js";
import { fieldError, ServiceError } from "../contract/service-error.js";

export interface PublicTenant {
	id: string;
	name: string;
	created_at: string;
}

/** A tenant and its first API key (admin scope, so the operator can configure it). */
export async function createTenant(deps: ServiceDeps, name: string): Promise<{ tenant: PublicTenant; apiKey: string; keyId: string }> {
	return (await insertTenant(deps, name, { onlyIfNone: false }))!;
}

async function insertTenant(deps: ServiceDeps, name: string, options: { onlyIfNone: boolean }): Promise<{ tenant: PublicTenant; apiKey: string; keyId: string } | null> {
	const now = deps.clock().getTime();
	const id = generateId("ten", deps.random);
	// Tenant and key in one transaction: a tenant without its key would make later starts print nothing (issue 13).
	const key = await deps.store.transaction(async (tx) => {
		if (options.onlyIfNone) {
			await tx.tenants.lockForInsert();
			if ((await tx.tenants.list()).length > 0) return null;
		}
		await tx.tenants.insert({ id, name, settings: JSON.stringify(defaultTenantSettings(name)), created_at: now });
		// A nested transaction is the enclosing one.
		return createAPIKey({ ...deps, store: tx }, id, "admin");
	});
	if (key === null) return null;
	return { tenant: { id, name, created_at: new Date(now).toISOString() }, apiKey: key.token, keyId: key.id };
}

export async function listTenants(deps: ServiceDeps): Promise<PublicTenant[]> {
	const rows = await deps.store.tenants.list();
	return rows.map((row) => ({ id: row.id, name: row.name, created_at: new Date(row.created_at).toISOString() }));
}

/** First start on an empty database: one tenant, whose key is printed once. Null when tenants exist. */
export async function ensureFirstTenant(deps: ServiceDeps): Promise<{ tenant: PublicTenant; apiKey: string } | null> {
	if ((await deps.store.tenants.list()).length > 0) return null;
	// Several nodes starting at once on an empty PostgreSQL database: the check is repeated under a lock, so one creates it.
	return insertTenant(deps, "default", { onlyIfNone: true });
}

export function tenantView(deps: ServiceDeps, ctx: TenantContext): Static<typeof Tenant> {
	return { id: ctx.tenantId, name: ctx.tenantName, settings: ctx.settings, prompt_passkeys: promptPasskeysUsable(ctx.settings.webauthn, deps.issuer()) };
}

/** https, or http on a loopback host (a test or a local support desk); no credentials in it. */
function isSupportURL(value: string): boolean {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		return false;
	}
	if (url.username !== "" || url.password !== "") return false;
	if (url.protocol === "https:") return true;
	return url.protocol === "http:" && (url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]");
}

/** PATCH /v1/tenant: admin only; bounds are enforced by the request schema, and what a schema cannot say here. */
export async function updateTenantSettings(
	deps: ServiceDeps,
	ctx: TenantContext,
	patch: TenantSettingsPatch,
): Promise<Static<typeof Tenant>> {
	if (ctx.scope !== "admin") throw new ServiceError("forbidden");
	const supportURL = patch.prompt?.support_url;
	if (typeof supportURL === "string" && !isSupportURL(supportURL)) {
		throw fieldError("invalid_request", "/prompt/support_url", "must be an https URL without credentials (http only on localhost, 127.0.0.1 or [::1])");
	}
	// The schema's host-name pattern also matches an IPv4 address and over-long labels; an rp_id is a domain name (WebAuthn-3 §5.1.3).
	if (typeof patch.webauthn?.rp_id === "string" && !isDomainName(patch.webauthn.rp_id)) {
		throw fieldError("invalid_request", "/webauthn/rp_id", "must be a domain name (labels of at most 63 letters, digits or hyphens), not an IP address");
	}
	// V-15: "direct" without a trust anchor would accept any self-made chain; refused here, not silently weakened.
	if (patch.webauthn?.attestation === "direct" && !hasTrustAnchors(deps.attestationTrust)) throw new ServiceError("attestation_not_configured");
	const settings = await deps.store.transaction(async (tx) => {
		// The stored settings, read with the row held: the patch applies to what is there now, and branding.has_logo
		// (written only with the logo, services/logos.ts) is kept as stored.
		const row = await tx.tenants.findForUpdate(ctx.tenantId);
		const current = row === undefined ? ctx.settings : parseTenantSettings(row.settings, row.name);
		const merged = mergeTenantSettings(current, patch);
		merged.branding = { ...merged.branding, has_logo: current.branding.has_logo };
		if (patch.webauthn !== undefined && !originsFitRelyingParty(merged.webauthn.rp_id, merged.webauthn.origins)) {
			throw fieldError("invalid_webauthn_settings", "/webauthn/origins", "each must be an https origin (http only for localhost), scheme, host and port only, on rp_id or a subdomain of it");
		}
		await tx.tenants.updateSettings(ctx.tenantId, JSON.stringify(merged));
		// Turning address storage off erases what was stored under it (privacy: nothing kept without the opt-in).
		if (current.email.store_address && !merged.email.store_address) await tx.users.forgetEmails(ctx.tenantId);
		await appendEvent(tx, deps.random, deps.clock().getTime(), {
			tenantId: ctx.tenantId,
			type: "tenant.updated",
			data: { ...actorOf(ctx), settings: merged },
		});
		return merged;
	});
	return { id: ctx.tenantId, name: ctx.tenantName, settings, prompt_passkeys: promptPasskeysUsable(settings.webauthn, deps.issuer()) };
}
