/**
 * The reserved tenant whose users are Twofold's own operators (issue 16): the console signs them in through this
 * tenant's prompt, as any application would sign in its users. Its id has the shape of every tenant id (so the
 * prompt's routes take it), but 26 zeros are not a value generateId draws in practice (128 random bits), and no
 * other tenant can ever be created with it. It has no API keys: only the CLI manages operators.
 */
export const SYSTEM_TENANT_ID = `ten_${"0".repeat(26)}`;

export function isSystemTenant(tenantId: string): boolean {
	return tenantId === SYSTEM_TENANT_ID;
}
