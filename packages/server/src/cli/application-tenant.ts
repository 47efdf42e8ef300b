import { isSystemTenant } from "../core/system-tenant.js";

/**
 * Why a command that works on an application's tenant (keys, clients, import, export) refuses the id it was given,
 * or undefined: the system tenant (issue 16) holds the console's operators, whom only `twofold operators` manages.
 */
export function applicationTenantRefusal(tenantId: string, exists: boolean): string | undefined {
	if (isSystemTenant(tenantId)) return `twofold: ${tenantId} is the system tenant (the console's operators): manage it with twofold operators`;
	return exists ? undefined : `twofold: no tenant ${tenantId}`;
}
