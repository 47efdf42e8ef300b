import { isSystemTenant } from "../core/system-tenant.js";
import { type OperatorRole, roleAllows } from "../core/operator.js";
import { ServiceError } from "../contract/service-error.js";
import type { ServiceDeps } from "./deps.js";
import type { PublicOperator } from "./operators.js";
import { tenantContext, type TenantContext } from "./tenant-context.js";
import type { PublicTenant } from "./tenants.js";

/**
 * What a console operator may reach (issue 16), decided here for every page and action, on the server: a tenant
 * outside their scope, the system tenant, or a tenant that does not exist are all "not found" (an id edited in a URL
 * or a form learns nothing); a role below the action's is "forbidden". The context then lets the console call the
 * same services as the API, with the operator as the actor of every event.
 */
export async function operatorContext(deps: ServiceDeps, operator: PublicOperator, tenantId: string, needed: OperatorRole): Promise<TenantContext> {
	if (isSystemTenant(tenantId) || !(operator.tenants === "all" || operator.tenants.includes(tenantId))) throw new ServiceError("not_found");
	const tenant = await deps.store.tenants.find(tenantId);
	if (tenant === undefined) throw new ServiceError("not_found");
	if (!roleAllows(operator.role, needed)) throw new ServiceError("forbidden");
	// Admin scope for the services' own checks: what the operator's role allows was decided just above.
	return { ...tenantContext(tenant, { id: operator.id, scope: "admin" }), actor: { type: "operator", id: operator.id, name: operator.name } };
}

/** The application tenants the operator may see, oldest first. */
export async function tenantsInScope(deps: ServiceDeps, operator: PublicOperator): Promise<PublicTenant[]> {
	const rows = await deps.store.tenants.list();
	return rows
		.filter((row) => operator.tenants === "all" || operator.tenants.includes(row.id))
		.map((row) => ({ id: row.id, name: row.name, created_at: new Date(row.created_at).toISOString() }));
}

export interface UserListEntry {
	id: string;
	locked: boolean;
	created_at: string;
}

/** A page of a tenant's users for the console's list; `next` is the id to continue after, when there may be more. */
export async function listUsers(deps: ServiceDeps, ctx: TenantContext, query: { prefix?: string; lockedOnly?: boolean; after?: string; limit: number }): Promise<{ users: UserListEntry[]; next?: string }> {
	const rows = await deps.store.userDirectory.page(ctx.tenantId, { ...query, limit: query.limit + 1 });
	const users = rows.slice(0, query.limit).map((row) => ({ id: row.id, locked: row.locked_at !== null, created_at: new Date(row.created_at).toISOString() }));
	return rows.length > query.limit ? { users, next: users[users.length - 1]!.id } : { users };
}
