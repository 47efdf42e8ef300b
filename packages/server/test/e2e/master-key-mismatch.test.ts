import { randomBytes } from "node:crypto";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { masterKeyId } from "../../src/core/keyring.js";
import { cli } from "./process.js";

/**
 * D-8 through the CLI: a node whose master keys cannot open what is stored stops with the one line every
 * configuration error gets (`twofold: …`, exit 1), not a stack trace. The check is a service
 * (services/master-key-rotation.ts) that knows no configuration; app.ts reports its refusal as a ConfigError (issue 14).
 */
describe("a master key that cannot open the stored secrets", () => {
	const cwd = realpathSync(mkdtempSync(join(tmpdir(), "twofold-wrong-key-")));
	afterAll(() => rmSync(cwd, { recursive: true, force: true }));
	const env = (key: Buffer) => ({ TWOFOLD_DATA_DIR: join(cwd, "data"), TWOFOLD_DATABASE_URL: undefined, TWOFOLD_MASTER_KEY: key.toString("base64"), TWOFOLD_MASTER_KEY_FILE: undefined });

	it("stops the command with one line naming the missing key id and how to add it, exit 1", async () => {
		const used = randomBytes(32);
		// migrate sets the installation up and seals its first signing key under the key it was given.
		expect((await cli(["migrate"], env(used), { cwd })).code).toBe(0);
		const refused = await cli(["tenants", "list"], env(randomBytes(32)), { cwd });
		expect(refused.code).toBe(1);
		expect(refused.stdout).toBe("");
		expect(refused.stderr.trimEnd().split("\n")).toEqual([
			`twofold: stored secrets are sealed under master key id(s) ${masterKeyId(used)}, which the configured master keys do not include; ` +
				"add the previous key after the active one (TWOFOLD_MASTER_KEY=new,old or one key a line in TWOFOLD_MASTER_KEY_FILE), or use the right key",
		]);
	});
});
