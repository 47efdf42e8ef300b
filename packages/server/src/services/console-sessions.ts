import { createHash } from "node:crypto";
import type { ServiceDeps } from "./deps.js";
import { type PublicOperator, publicOperator } from "./operators.js";

/**
 * The console's signed-in sessions (issue 16): an opaque cookie of 256 random bits, of which the store keeps only
 * the SHA-256. A session ends at sign-out, after 15 minutes without a request, after 8 hours whatever happens, or
 * when its operator is disabled or given a new enrollment link. A destructive or security-relevant action also
 * needs a fresh prompt verification, within the last 5 minutes (step-up).
 */
export const CONSOLE_IDLE_MS = 15 * 60_000;
export const CONSOLE_LIFETIME_MS = 8 * 60 * 60_000;
export const CONSOLE_STEP_UP_MS = 5 * 60_000;
/** A request refreshes last_seen_at at most once a minute: reading a page stays a read on nearly every request. */
const TOUCH_AFTER_MS = 60_000;
const COOKIE = /^[A-Za-z0-9_-]{43}$/;

export interface ConsoleSession {
	operator: PublicOperator;
	createdAt: number;
	verifiedAt: number;
	/** A prompt verification within CONSOLE_STEP_UP_MS: a destructive action may go ahead. */
	fresh: boolean;
}

const idHashOf = (cookie: string): string => createHash("sha256").update(`twofold/console-session/${cookie}`).digest("base64url");

/** Starts a session for an active operator (after the prompt verified them); undefined when there is none. */
export async function startConsoleSession(deps: ServiceDeps, operatorName: string): Promise<{ cookie: string; session: ConsoleSession } | undefined> {
	const now = deps.clock().getTime();
	const cookie = Buffer.from(deps.random(32)).toString("base64url");
	return deps.store.transaction(async (tx) => {
		const row = await tx.operators.findByName(operatorName);
		if (row === undefined || row.status !== "active") return undefined;
		await tx.consoleSessions.insert({ id_hash: idHashOf(cookie), operator_id: row.id, created_at: now, last_seen_at: now, verified_at: now, expires_at: now + CONSOLE_LIFETIME_MS, ended_at: null });
		return { cookie, session: { operator: publicOperator(row, now), createdAt: now, verifiedAt: now, fresh: true } };
	});
}

/** The live session a cookie names, with its operator (who must still be active); undefined otherwise. */
export async function readConsoleSession(deps: ServiceDeps, cookie: string | undefined): Promise<ConsoleSession | undefined> {
	if (cookie === undefined || !COOKIE.test(cookie)) return undefined;
	const now = deps.clock().getTime();
	const idHash = idHashOf(cookie);
	const row = await deps.store.consoleSessions.findLive(idHash, now, now - CONSOLE_IDLE_MS);
	if (row === undefined) return undefined;
	const operator = await deps.store.operators.find(row.operator_id);
	if (operator === undefined || operator.status !== "active") return undefined;
	if (now - row.last_seen_at >= TOUCH_AFTER_MS) await deps.store.transaction((tx) => tx.consoleSessions.touch(idHash, now));
	return { operator: publicOperator(operator, now), createdAt: row.created_at, verifiedAt: row.verified_at, fresh: now - row.verified_at < CONSOLE_STEP_UP_MS };
}

/** A fresh prompt verification of the session's own operator (the caller checked the id_token's subject). */
export async function recordConsoleStepUp(deps: ServiceDeps, cookie: string): Promise<void> {
	const now = deps.clock().getTime();
	await deps.store.transaction((tx) => tx.consoleSessions.markVerified(idHashOf(cookie), now));
}

export async function endConsoleSession(deps: ServiceDeps, cookie: string | undefined): Promise<void> {
	if (cookie === undefined || !COOKIE.test(cookie)) return;
	const now = deps.clock().getTime();
	await deps.store.transaction((tx) => tx.consoleSessions.end(idHashOf(cookie), now));
}
