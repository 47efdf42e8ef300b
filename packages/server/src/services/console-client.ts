import { SYSTEM_TENANT_ID } from "../core/system-tenant.js";
import { mergeTenantSettings, parseTenantSettings } from "../contract/tenant-settings.js";
import { openClientSecret, sealClientSecret } from "./client-secret.js";
import type { ServiceDeps } from "./deps.js";
import type { ClientTable, TenantTable } from "../store/tables.js";

/**
 * The console is an OpenID Connect client of the system tenant's prompt, as any application is of its tenant's
 * (issue 16: Twofold is its own first customer). Its client has a reserved id in the system tenant and a random
 * secret sealed at rest like every client's; the console reads it back from its envelope, so nothing about it is
 * configured by hand. Its redirect URI and the tenant's relying party follow the public URL: set again whenever
 * they differ, so a node that moves to another URL signs operators in there.
 */
export const CONSOLE_CLIENT_ID = `cli_${"0".repeat(26)}`;
export const CONSOLE_CALLBACK_PATH = "/console/callback";

export interface ConsoleClient {
	tenantId: string;
	clientId: string;
	secret: string;
	redirectUri: string;
	/** Whether a passkey can work here: the public URL's host is a domain name (a browser refuses an IP address as an rp_id). */
	passkeysUsable: boolean;
}

/**
 * The console's client, made or brought up to date for the current public URL; undefined when no operator exists
 * yet. Every sign-in, enrollment, step-up and callback asks for it, so when the tenant and the client already fit
 * the URL (nearly always) it is two plain reads; only a change takes the tenant's row and writes.
 */
export async function consoleClient(deps: ServiceDeps): Promise<ConsoleClient | undefined> {
	const base = new URL(deps.issuer());
	const redirectUri = `${base.origin}${CONSOLE_CALLBACK_PATH}`;
	const host = base.hostname;
	const passkeysUsable = !/^[0-9.]+$/.test(host) && !host.startsWith("[");
	const webauthn = { rp_id: host, rp_name: "Twofold console", origins: [base.origin] };
	const fits = (tenant: TenantTable): boolean => {
		const current = parseTenantSettings(tenant.settings, tenant.name).webauthn;
		return current.rp_id === webauthn.rp_id && current.rp_name === webauthn.rp_name && JSON.stringify(current.origins) === JSON.stringify(webauthn.origins);
	};
	const ready = (row: ClientTable): ConsoleClient => ({ tenantId: SYSTEM_TENANT_ID, clientId: CONSOLE_CLIENT_ID, secret: openClientSecret(deps, row, row.secret_envelope!), redirectUri, passkeysUsable });

	const tenant = await deps.store.tenants.find(SYSTEM_TENANT_ID);
	if (tenant === undefined) return undefined;
	const client = fits(tenant) ? await deps.store.clients.find(SYSTEM_TENANT_ID, CONSOLE_CLIENT_ID) : undefined;
	if (client !== undefined && client.redirect_uris === JSON.stringify([redirectUri])) return ready(client);

	return deps.store.transaction(async (tx) => {
		const held = await tx.tenants.findForUpdate(SYSTEM_TENANT_ID);
		if (held === undefined) return undefined;
		if (!fits(held)) {
			// R-WA-5 stays: user verification is required in the system tenant, whatever else changes.
			const settings = parseTenantSettings(held.settings, held.name);
			await tx.tenants.updateSettings(SYSTEM_TENANT_ID, JSON.stringify(mergeTenantSettings(settings, { webauthn: { ...webauthn, user_verification: "required" } })));
		}
		const now = deps.clock().getTime();
		const row = await tx.clients.find(SYSTEM_TENANT_ID, CONSOLE_CLIENT_ID);
		if (row === undefined) {
			// 256 bits from the CSPRNG, as for any client (services/clients.ts); sealed, bound to this tenant and client.
			const secret = Buffer.from(deps.random(32)).toString("base64url");
			const key = { tenant_id: SYSTEM_TENANT_ID, id: CONSOLE_CLIENT_ID };
			await tx.clients.insert({
				...key,
				name: "Twofold console",
				redirect_uris: JSON.stringify([redirectUri]),
				post_logout_redirect_uris: "[]",
				token_endpoint_auth_method: "client_secret_basic",
				jwks: null,
				id_token_signed_response_alg: "EdDSA",
				secret_envelope: sealClientSecret(deps, key, secret),
				created_at: now,
				updated_at: now,
			});
			return { tenantId: SYSTEM_TENANT_ID, clientId: CONSOLE_CLIENT_ID, secret, redirectUri, passkeysUsable };
		}
		if (row.redirect_uris !== JSON.stringify([redirectUri])) {
			await tx.clients.update(SYSTEM_TENANT_ID, CONSOLE_CLIENT_ID, { redirect_uris: JSON.stringify([redirectUri]), updated_at: now });
		}
		return ready(row);
	});
}
