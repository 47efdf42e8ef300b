import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { createPostgresSchema, DIALECTS } from "./helpers.js";

/** Several nodes starting at once on an empty database create one first tenant between them, not one each. */
describe.each(DIALECTS)("the first tenant (%s)", (dialect) => {
	it("10 concurrent first starts create exactly one tenant", async () => {
		const dataDir = mkdtempSync(join(tmpdir(), "twofold-first-"));
		const schema = dialect === "postgres" ? await createPostgresSchema() : undefined;
		const app = await createApp(
			loadConfig({ TWOFOLD_DATA_DIR: dataDir, TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64"), ...(schema === undefined ? {} : { TWOFOLD_DATABASE_URL: schema.url }) }, process.cwd()),
		);
		try {
			const results = await Promise.all(Array.from({ length: 10 }, () => app.services.tenants.ensureFirst()));
			expect(results.filter((result) => result !== null)).toHaveLength(1);
			expect(await app.services.tenants.list()).toHaveLength(1);
		} finally {
			await app.close();
			await schema?.drop();
			rmSync(dataDir, { recursive: true, force: true });
		}
	});
});
