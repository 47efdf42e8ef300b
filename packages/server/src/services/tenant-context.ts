import type { TenantTable } from "../store/tables.js";
import { parseTenantSettings, type TenantSettings } from "../contract/tenant-settings.js";

/** Who is calling: the tenant (with parsed settings) and the API key used. */
export interface TenantContext {
	tenantId: string;
	tenantName: string;
	settings: TenantSettings;
	keyId: string;
	scope: "default" | "admin";
	/**
	 * Set when a console operator acts (issue 16) rather than an API key: the audit trail names them
	 * (`actor: {type: "operator", id, name}`) instead of `actor_key_id` (services/actor.ts).
	 */
	actor?: OperatorActor;
}

export interface OperatorActor {
	type: "operator";
	id: string;
	name: string;
}

// Every request parses its tenant's settings; the JSON text is the key, so a change is seen at once.
const parsed = new Map<string, TenantSettings>();
const MAX_CACHED = 1000;

function settingsOf(tenant: TenantTable): TenantSettings {
	const key = `${tenant.name}\u0000${tenant.settings}`;
	let settings = parsed.get(key);
	if (settings === undefined) {
		settings = Object.freeze(parseTenantSettings(tenant.settings, tenant.name));
		if (parsed.size >= MAX_CACHED) parsed.clear();
		parsed.set(key, settings);
	}
	return settings;
}

export function tenantContext(tenant: TenantTable, key: { id: string; scope: "default" | "admin" }): TenantContext {
	return {
		tenantId: tenant.id,
		tenantName: tenant.name,
		settings: settingsOf(tenant),
		keyId: key.id,
		scope: key.scope,
	};
}
