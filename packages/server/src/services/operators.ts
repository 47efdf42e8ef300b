import { generateId } from "../core/id.js";
import { createEnrollmentToken, ENROLLMENT_LINK_TTL_MS, hashEnrollmentToken, isEnrollmentToken, isOperatorName, type OperatorRole } from "../core/operator.js";
import { isSystemTenant, SYSTEM_TENANT_ID } from "../core/system-tenant.js";
import { defaultTenantSettings, mergeTenantSettings } from "../contract/tenant-settings.js";
import type { Store } from "../store/store.js";
import type { OperatorTable } from "../store/tables.js";
import type { ServiceDeps } from "./deps.js";
import { appendEvent } from "./events.js";

/**
 * The console's operators (issue 16): users of the system tenant (core/system-tenant.ts), managed by the CLI only.
 * Creating one, or issuing a new link to one who lost their key, gives a one-time enrollment link: 24 h, single use,
 * its token in the URL fragment (no server or proxy log receives a fragment) and only its SHA-256 at rest.
 */

/** What `twofold operators list` shows of an operator: never the link's token or its hash. */
export interface PublicOperator {
	id: string;
	name: string;
	role: OperatorRole;
	/** "all", or the tenant ids the operator may see and act on. */
	tenants: "all" | string[];
	status: "active" | "disabled";
	created_at: string;
	disabled_at: string | null;
	/** "pending" (a link not used yet, not expired), "used", "expired", or "none" (disabled: its link was voided). */
	enrollment: "pending" | "used" | "expired" | "none";
}

export interface EnrollmentLink {
	operator: PublicOperator;
	/** The console's enrollment route with the token in the fragment: shown once, to be given to the operator alone. */
	link: string;
	expires_at: string;
}

/** Why an operator command was refused: each names the problem for the person at the terminal. */
export class OperatorError extends Error {
	override readonly name = "OperatorError";
}

export interface NewOperator {
	name: string;
	role: OperatorRole;
	/** "all", or the ids of existing application tenants (at least one). */
	tenants: "all" | readonly string[];
}

export async function createOperator(deps: ServiceDeps, input: NewOperator): Promise<EnrollmentLink> {
	if (!isOperatorName(input.name)) throw new OperatorError("the name must be 1-64 characters: lower-case letters, digits, '.', '_' and '-', starting with a letter or digit");
	const scope = input.tenants === "all" ? "all" : [...new Set(input.tenants)];
	if (scope !== "all" && scope.length === 0) throw new OperatorError("give --tenant ID (one or more) or --all-tenants");
	const now = deps.clock().getTime();
	const { token, hash } = createEnrollmentToken(deps.random);
	const row: OperatorTable = {
		id: generateId("opr", deps.random),
		name: input.name,
		role: input.role,
		tenant_scope: scope === "all" ? "*" : JSON.stringify(scope),
		status: "active",
		created_at: now,
		disabled_at: null,
		enrollment_hash: hash,
		enrollment_expires_at: now + ENROLLMENT_LINK_TTL_MS,
		enrollment_used_at: null,
	};
	await deps.store.transaction(async (tx) => {
		if (scope !== "all") {
			for (const tenantId of scope) {
				if (isSystemTenant(tenantId) || (await tx.tenants.find(tenantId)) === undefined) throw new OperatorError(`no tenant ${tenantId}`);
			}
		}
		if ((await tx.operators.findByName(input.name)) !== undefined) throw new OperatorError(`an operator named ${input.name} exists already`);
		await ensureSystemTenant(tx, now);
		await tx.operators.insert(row);
		await appendEvent(tx, deps.random, now, {
			tenantId: SYSTEM_TENANT_ID,
			userId: row.name,
			type: "operator.created",
			data: { operator_id: row.id, role: row.role, tenants: scope, link_expires_at: new Date(now + ENROLLMENT_LINK_TTL_MS).toISOString() },
		});
	});
	return { operator: publicOperator(row, now), link: enrollmentLink(deps, token), expires_at: new Date(now + ENROLLMENT_LINK_TTL_MS).toISOString() };
}

/** A new link for an operator who lost their key (issue 16: re-issued by another admin through the CLI); the earlier link stops working. */
export async function reissueEnrollment(deps: ServiceDeps, name: string): Promise<EnrollmentLink> {
	const now = deps.clock().getTime();
	const { token, hash } = createEnrollmentToken(deps.random);
	const row = await deps.store.transaction(async (tx) => {
		const found = await tx.operators.findByName(name);
		if (found === undefined) throw new OperatorError(`no operator named ${name}`);
		if (found.status !== "active") throw new OperatorError(`operator ${name} is disabled`);
		await tx.operators.setEnrollment(found.id, hash, now + ENROLLMENT_LINK_TTL_MS);
		// A new link is for a lost or compromised key: whoever holds the old one is signed out now.
		await tx.consoleSessions.endAllOf(found.id, now);
		await appendEvent(tx, deps.random, now, {
			tenantId: SYSTEM_TENANT_ID,
			userId: found.name,
			type: "operator.link_issued",
			data: { operator_id: found.id, link_expires_at: new Date(now + ENROLLMENT_LINK_TTL_MS).toISOString() },
		});
		return { ...found, enrollment_hash: hash, enrollment_expires_at: now + ENROLLMENT_LINK_TTL_MS, enrollment_used_at: null };
	});
	return { operator: publicOperator(row, now), link: enrollmentLink(deps, token), expires_at: new Date(now + ENROLLMENT_LINK_TTL_MS).toISOString() };
}

export async function listOperators(deps: ServiceDeps): Promise<PublicOperator[]> {
	const now = deps.clock().getTime();
	return (await deps.store.operators.list()).map((row) => publicOperator(row, now));
}

/** Disables an operator: their link is void, and (with the console) their sessions end. Idempotent refusals name why. */
export async function disableOperator(deps: ServiceDeps, name: string): Promise<PublicOperator> {
	const now = deps.clock().getTime();
	return deps.store.transaction(async (tx) => {
		const found = await tx.operators.findByName(name);
		if (found === undefined) throw new OperatorError(`no operator named ${name}`);
		if (!(await tx.operators.disable(found.id, now))) throw new OperatorError(`operator ${name} is disabled already`);
		// Signed in elsewhere: those sessions end now, not at their timeout.
		await tx.consoleSessions.endAllOf(found.id, now);
		await appendEvent(tx, deps.random, now, { tenantId: SYSTEM_TENANT_ID, userId: found.name, type: "operator.disabled", data: { operator_id: found.id } });
		return publicOperator({ ...found, status: "disabled", disabled_at: now, enrollment_hash: null, enrollment_expires_at: null }, now);
	});
}

/**
 * Spends an enrollment link's token: the operator it opens, once, or undefined (unknown, used, expired, or the
 * operator disabled: one answer for all, so a guesser learns nothing). The console's enrollment route calls this.
 */
export async function redeemEnrollment(deps: ServiceDeps, token: string): Promise<PublicOperator | undefined> {
	if (!isEnrollmentToken(token)) return undefined;
	const now = deps.clock().getTime();
	return deps.store.transaction(async (tx) => {
		const row = await tx.operators.spendEnrollment(hashEnrollmentToken(token), now);
		if (row === undefined) return undefined;
		await appendEvent(tx, deps.random, now, { tenantId: SYSTEM_TENANT_ID, userId: row.name, type: "operator.link_used", data: { operator_id: row.id } });
		return publicOperator(row, now);
	});
}

/**
 * The system tenant, created with the first operator. User verification stays required (R-WA-5). No recovery
 * requests: a lost key is re-issued through the CLI. No-factor policy "deny": a name typed on the sign-in page whose
 * operator has not enrolled yet must not be offered an enrollment (that would let whoever typed it take the account);
 * only the console's enrollment link (intent=enroll, which only the console's client can send) enrolls an operator.
 */
async function ensureSystemTenant(tx: Store, now: number): Promise<void> {
	if ((await tx.tenants.find(SYSTEM_TENANT_ID)) !== undefined) return;
	await tx.tenants.lockForInsert();
	if ((await tx.tenants.find(SYSTEM_TENANT_ID)) !== undefined) return;
	const settings = mergeTenantSettings(defaultTenantSettings("Twofold operators"), {
		prompt: { recovery_requests: false, no_factor_policy: "deny" },
		branding: { display_name: "Twofold console" },
	});
	await tx.tenants.insert({ id: SYSTEM_TENANT_ID, name: "Twofold operators", settings: JSON.stringify(settings), created_at: now });
}

function enrollmentLink(deps: ServiceDeps, token: string): string {
	return `${deps.issuer()}/console/enroll#token=${token}`;
}

export function publicOperator(row: OperatorTable, now: number): PublicOperator {
	const enrollment =
		row.enrollment_hash === null || row.enrollment_expires_at === null
			? "none"
			: row.enrollment_used_at !== null
				? "used"
				: row.enrollment_expires_at <= now
					? "expired"
					: "pending";
	return {
		id: row.id,
		name: row.name,
		role: row.role,
		tenants: row.tenant_scope === "*" ? "all" : (JSON.parse(row.tenant_scope) as string[]),
		status: row.status,
		created_at: new Date(row.created_at).toISOString(),
		disabled_at: row.disabled_at === null ? null : new Date(row.disabled_at).toISOString(),
		enrollment,
	};
}
