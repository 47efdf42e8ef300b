import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createPostgresSchema, DIALECTS } from "../helpers.js";
import { oidcPayloadRow, promptSessionRow } from "../prompt-rows.js";
import { cli, startServer } from "./process.js";

/**
 * `twofold serve` sweeps the prompt's expired state (issue 15): rows left expired in the database before it started
 * are gone once it has run, live ones stay. The real process, its real wiring, the real database.
 */
describe.each(DIALECTS)("serve sweeps expired prompt sessions and oidc artefacts (%s)", (dialect) => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-prompt-sweep-"));
	let schema: Awaited<ReturnType<typeof createPostgresSchema>> | undefined;
	afterAll(async () => {
		await schema?.drop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	it("deletes what expired while it was down, logs it, and keeps the live rows", async () => {
		schema = dialect === "postgres" ? await createPostgresSchema() : undefined;
		const env = {
			TWOFOLD_DATA_DIR: dataDir,
			TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64"),
			TWOFOLD_LOG_LEVEL: "info",
			...(schema === undefined ? {} : { TWOFOLD_DATABASE_URL: schema.url }),
		};
		expect((await cli(["migrate"], env)).code).toBe(0);
		const created = JSON.parse((await cli(["tenants", "create", "--name", "Sweep", "--json"], env)).stdout) as { tenant_id: string };
		const tenantId = created.tenant_id;
		const now = Date.now();
		const open = () => createApp(loadConfig(env, process.cwd()), { logger: false });
		let app = await open();
		try {
			await app.store.promptSessions.insert(promptSessionRow(tenantId, "expired", now - 60_000));
			await app.store.promptSessions.insert(promptSessionRow(tenantId, "live", now + 3_600_000));
			await app.store.oidcPayloads.upsert(oidcPayloadRow(tenantId, "expired", now - 60_000));
			await app.store.oidcPayloads.upsert(oidcPayloadRow(tenantId, "live", now + 3_600_000));
		} finally {
			await app.close();
		}

		const server = await startServer(env);
		try {
			for (const deadline = Date.now() + 20_000; !server.output().includes("swept expired prompt state"); ) {
				if (Date.now() > deadline) throw new Error(`no sweep was logged:\n${server.output()}`);
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
			const line = server.output().split("\n").find((text) => text.includes("swept expired prompt state"))!;
			expect(JSON.parse(line)).toMatchObject({ prompt_sessions: 1, oidc_artefacts: 1 });
		} finally {
			expect(await server.stop("SIGTERM")).toBe(0);
		}

		app = await open();
		try {
			// Read at time 0: "expired" would still be found if its row were there.
			expect(await app.store.promptSessions.find("expired", tenantId, "uid_expired", 0)).toBeUndefined();
			expect(await app.store.oidcPayloads.find(tenantId, "Interaction", "expired", 0)).toBeUndefined();
			expect(await app.store.promptSessions.find("live", tenantId, "uid_live", now)).toBeDefined();
			expect(await app.store.oidcPayloads.find(tenantId, "Interaction", "live", now)).toBeDefined();
		} finally {
			await app.close();
		}
	});
});
