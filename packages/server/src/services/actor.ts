import type { TenantContext } from "./tenant-context.js";

/**
 * Who did it, for an audit event's data: the API key (`actor_key_id`, as every event has said since issue 3), or the
 * console operator (issue 16: `actor: {type: "operator", id, name}`), never both.
 */
export function actorOf(ctx: TenantContext): { actor_key_id: string } | { actor: NonNullable<TenantContext["actor"]> } {
	return ctx.actor === undefined ? { actor_key_id: ctx.keyId } : { actor: ctx.actor };
}
