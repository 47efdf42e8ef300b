import { ServiceError } from "../contract/service-error.js";
import type { TenantContext } from "./tenant-context.js";

/** Operations only an admin-scope key may perform (ADR 0004). */
export function requireAdmin(ctx: TenantContext): void {
	if (ctx.scope !== "admin") throw new ServiceError("forbidden");
}
