import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPromptStateSweeper, sweepPromptState, type PromptSweepResult } from "../src/services/prompt-state-sweeper.js";
import { buildTestApp, DIALECTS, type TestApp } from "./helpers.js";
import { oidcPayloadRow, promptSessionRow } from "./prompt-rows.js";

/**
 * The prompt's housekeeping (issue 15): expired prompt sessions and oidc-provider artefacts are deleted beside the
 * service, in bounded batches, and live ones never. test/e2e/serve-prompt-sweep.test.ts shows `twofold serve` runs it.
 */
describe.each(DIALECTS)("prompt state sweep (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t?.close());

	it("deletes expired sessions and artefacts in batches up to its bound, and leaves live ones", async () => {
		const now = t.clock().getTime();
		const { store } = t.app.services.deps;
		for (let i = 0; i < 7; i++) {
			await store.promptSessions.insert(promptSessionRow(t.tenantId, `old_${i}`, now - 1000 - i));
			await store.oidcPayloads.upsert(oidcPayloadRow(t.tenantId, `old_${i}`, now - 1000 - i));
		}
		await store.promptSessions.insert(promptSessionRow(t.tenantId, "live", now + 600_000));
		await store.oidcPayloads.upsert(oidcPayloadRow(t.tenantId, "live", now + 600_000));
		// Expiring exactly now counts as expired (every read asks expires_at > now).
		await store.promptSessions.insert(promptSessionRow(t.tenantId, "edge", now));

		expect(await sweepPromptState(t.app.services.deps, { batch: 2, maxBatches: 2 })).toEqual({ prompt_sessions: 4, oidc_artefacts: 4, more: true });
		expect(await sweepPromptState(t.app.services.deps, { batch: 2, maxBatches: 10 })).toEqual({ prompt_sessions: 4, oidc_artefacts: 3, more: false });
		expect(await sweepPromptState(t.app.services.deps)).toEqual({ prompt_sessions: 0, oidc_artefacts: 0, more: false });
		expect(await store.promptSessions.find("live", t.tenantId, "uid_live", now)).toBeDefined();
		expect(await store.oidcPayloads.find(t.tenantId, "Interaction", "live", now)).toBeDefined();
		for (let i = 0; i < 7; i++) expect(await store.oidcPayloads.find(t.tenantId, "Interaction", `old_${i}`, 0)).toBeUndefined();
	});

	it("the sweeper makes a pass at once, reports what it deleted, and stops cleanly", async () => {
		const now = t.clock().getTime();
		await t.app.services.deps.store.promptSessions.insert(promptSessionRow(t.tenantId, "stale", now - 1));
		const passes: PromptSweepResult[] = [];
		const errors: unknown[] = [];
		const sweeper = startPromptStateSweeper(t.app.services.deps, { intervalMs: 3_600_000, onPass: (result) => passes.push(result), onError: (error) => errors.push(error) });
		for (const deadline = Date.now() + 10_000; passes.length === 0 && errors.length === 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
		await sweeper.stop();
		expect(errors).toEqual([]);
		expect(passes).toEqual([{ prompt_sessions: 1, oidc_artefacts: 0, more: false }]);
	});
});
