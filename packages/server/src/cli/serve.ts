import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { createApp } from "../app.js";
import { startAttemptRecordSweeper } from "../services/attempt-records.js";
import { startPromptStateSweeper } from "../services/prompt-state-sweeper.js";
import { startEventRollupFolder } from "../services/event-rollups.js";
import { startWebhookWorker } from "../services/webhook-delivery.js";
import type { Command } from "./command.js";
import { listenFailure } from "./listen-failure.js";

export const serve: Command = {
	name: "serve",
	summary: "run the HTTP service (migrates; once listening, creates a first tenant on an empty database)",
	dataDir: "create",
	usage: "twofold serve",
	async run(argv, config, out) {
		parseArgs({ args: argv, options: {}, strict: true });
		// V8 grows the old space well ahead of what a busy server keeps alive (heap 100 MB for 50 MB used).
		// Growing by 40% at a time kept the peak RSS under the benchmark at about 180 MB instead of 260 MB,
		// at the same throughput; 20% saved a little more but lengthened the p99 (ADR 0005). A growth
		// factor, not a cap: a burst can still take what it needs.
		setFlagsFromString("--heap-growing-percent=40");
		const app = await createApp(config, { guardClock: true });
		const http = await app.http();
		const skew = app.clockGuard()?.skewMs();
		if (skew !== null && skew !== undefined && !app.clockGuard()!.trusted()) {
			http.log.error({ skew_ms: skew }, "this node's clock differs from the database's by more than TWOFOLD_MAX_CLOCK_SKEW_MS: it will refuse to check codes");
		}
		if (app.masterKeyCreated && config.masterKey.source === "data-dir") {
			http.log.warn(
				{ path: config.masterKey.path },
				"generated a new master key: back this file up with the database; without it no enrolled factor can be verified",
			);
		}
		// From here a SIGINT or SIGTERM waits its turn: a stop while the first tenant is created lets its key be printed.
		let stopRequested = false;
		let wake = (): void => {};
		const stop = (): void => {
			stopRequested = true;
			wake();
		};
		process.on("SIGINT", stop);
		process.on("SIGTERM", stop);
		const untrap = (): void => {
			process.off("SIGINT", stop);
			process.off("SIGTERM", stop);
		};
		let address: string;
		try {
			address = await http.listen({ host: config.host, port: config.port });
		} catch (error) {
			untrap();
			await app.close();
			const reason = listenFailure(error, config);
			if (reason === null) throw error;
			out.stderr(`twofold serve: ${reason}`);
			return 1;
		}
		app.listeningAt(address);
		// The first tenant is created only once the server listens: a start that cannot bind creates nothing, so its
		// key cannot be lost (issue 13). Tenant and key are one transaction; nodes starting together on PostgreSQL
		// create one between them (ensureFirst repeats its check under a lock). No request can race it: until
		// it commits there is no key to authenticate with.
		let first: Awaited<ReturnType<typeof app.services.tenants.ensureFirst>>;
		try {
			first = await app.services.tenants.ensureFirst();
		} catch (error) {
			untrap();
			await app.close();
			throw error;
		}
		if (first !== null) {
			// Printed once, outside the structured log: the log must never carry a key (R-ST-4).
			out.stdout(
				[
					"",
					`Twofold created a first tenant "${first.tenant.name}" (${first.tenant.id}).`,
					"Its admin API key is shown only this once; store it now:",
					"",
					`  ${first.apiKey}`,
					"",
					`Try: curl -H "Authorization: Bearer <key>" ${address}/v1/tenant`,
					"This admin key stays with operators. Give your application backend a key of its own, without admin rights:",
					`  twofold keys create --tenant ${first.tenant.id} --scope default`,
					...(config.masterKey.source === "data-dir" ? [`Back up the master key ${config.masterKey.path} with the database.`] : []),
					"",
				].join("\n"),
			);
		}
		// The outbox's delivery loop runs in every server process; on PostgreSQL, nodes claim disjoint rows.
		const webhooks = startWebhookWorker(app.services.deps, { onError: (error) => http.log.error({ err: error }, "webhook delivery pass failed") });
		// Expired attempt records of ids that never enrolled (V-12a) are deleted beside the service, off the verify path.
		const sweeper = startAttemptRecordSweeper(app.services.deps, { onError: (error) => http.log.error({ err: error }, "attempt-record sweep failed") });
		// The prompt's expired sessions and oidc-provider's expired artefacts (issue 15): never read once expired, deleted
		// at start and then a minute at a time, off the request path.
		const promptSweeper = startPromptStateSweeper(app.services.deps, {
			onPass: (result) => http.log.info({ prompt_sessions: result.prompt_sessions, oidc_artefacts: result.oidc_artefacts }, "swept expired prompt state"),
			onError: (error) => http.log.error({ err: error }, "prompt state sweep failed"),
		});
		// The console overview's per-hour counts and gauges (issue 16), folded from the events beside the service, so the
		// verify path writes nothing more and no chart reads the events table.
		const rollups = startEventRollupFolder(app.services.deps, { onError: (error) => http.log.error({ err: error }, "event rollup fold failed") });
		// A plain line whatever the log level, for scripts and supervisors that wait for readiness.
		out.stdout(`Twofold listening at ${address}`);
		await new Promise<void>((resolve) => {
			wake = resolve;
			if (stopRequested) resolve();
		});
		untrap();
		http.log.info("shutting down: finishing in-flight requests and deliveries");
		await webhooks.stop();
		await sweeper.stop();
		await promptSweeper.stop();
		await rollups.stop();
		await app.close();
		return 0;
	},
};
