import type { ServiceDeps } from "./deps.js";

/**
 * The hosted prompt's expired state (issue 15): prompt_sessions rows (the pages' per-browser state, an hour at most)
 * and oidc-provider's artefacts in oidc_payloads (interactions, codes, grants). Neither is read once expired (every
 * lookup names `expires_at > now`), so deleting them is housekeeping, not security; it keeps the tables from growing
 * with every abandoned sign-in. It runs beside the service, like the attempt-record sweep: batches of at most
 * SWEEP_BATCH conditional deletes, a bounded number per pass.
 */
export const PROMPT_SWEEP_BATCH = 500;
const MAX_BATCHES_PER_PASS = 20;

export interface PromptSweepResult {
	prompt_sessions: number;
	oidc_artefacts: number;
	/** A pass stopped at its bound with rows left: the next one comes soon. */
	more: boolean;
}

/** One pass over both tables. */
export async function sweepPromptState(deps: Pick<ServiceDeps, "store" | "clock">, options: { batch?: number; maxBatches?: number } = {}): Promise<PromptSweepResult> {
	const batch = options.batch ?? PROMPT_SWEEP_BATCH;
	const maxBatches = options.maxBatches ?? MAX_BATCHES_PER_PASS;
	const drain = async (sweep: (now: number, limit: number) => Promise<number>): Promise<{ deleted: number; more: boolean }> => {
		let deleted = 0;
		for (let i = 0; i < maxBatches; i++) {
			const removed = await sweep(deps.clock().getTime(), batch);
			deleted += removed;
			if (removed < batch) return { deleted, more: false };
		}
		return { deleted, more: true };
	};
	const sessions = await drain((now, limit) => deps.store.promptSessions.sweep(now, limit));
	const artefacts = await drain((now, limit) => deps.store.oidcPayloads.deleteExpired(now, limit));
	return { prompt_sessions: sessions.deleted, oidc_artefacts: artefacts.deleted, more: sessions.more || artefacts.more };
}

export interface PromptStateSweeper {
	/** Stops the timer and waits for the pass in flight. */
	stop(): Promise<void>;
}

/**
 * A pass at once (rows that expired while no node ran go first), then every `intervalMs` (a minute by default), or
 * again a second after a pass that hit its bound. `onPass` hears of every pass that deleted something.
 */
export function startPromptStateSweeper(
	deps: Pick<ServiceDeps, "store" | "clock">,
	options: { intervalMs?: number; onPass?: (result: PromptSweepResult) => void; onError?: (error: unknown) => void } = {},
): PromptStateSweeper {
	const intervalMs = options.intervalMs ?? 60_000;
	let stopped = false;
	let timer: NodeJS.Timeout | undefined;
	let inFlight: Promise<void> = Promise.resolve();
	const schedule = (delay: number): void => {
		if (!stopped) timer = setTimeout(tick, delay).unref();
	};
	const tick = (): void => {
		inFlight = sweepPromptState(deps).then(
			(result) => {
				if (result.prompt_sessions + result.oidc_artefacts > 0) options.onPass?.(result);
				schedule(result.more ? 1000 : intervalMs);
			},
			(error: unknown) => {
				options.onError?.(error);
				schedule(intervalMs);
			},
		);
	};
	schedule(0);
	return {
		async stop() {
			stopped = true;
			clearTimeout(timer);
			await inFlight;
		},
	};
}
