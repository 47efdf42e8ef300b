import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "./process.js";

/** The configuration a shell might carry, removed so the defaults (./data, a key file in it) apply. */
const UNSET = { TWOFOLD_DATA_DIR: undefined, TWOFOLD_DATABASE_URL: undefined, TWOFOLD_MASTER_KEY: undefined, TWOFOLD_MASTER_KEY_FILE: undefined };

/** Issue 13: run from the wrong folder, a command refuses instead of starting an empty installation there. */
describe("commands that need an existing installation", () => {
	const cwd = realpathSync(mkdtempSync(join(tmpdir(), "twofold-elsewhere-")));
	afterAll(() => rmSync(cwd, { recursive: true, force: true }));

	it("refuse in an empty folder, naming the absolute data folder and TWOFOLD_DATA_DIR, and create nothing", { timeout: 180_000 }, async () => {
		for (const args of [["tenants", "list"], ["tenants", "create", "--name", "x"], ["keys", "list", "--tenant", "ten_00000000000000000000000000"], ["keys", "rotate-signing"], ["keys", "rewrap"], ["restore-fence"], ["backup", join(cwd, "copy.db")]]) {
			const result = await cli(args, UNSET, { cwd });
			expect(result.code, args.join(" ")).toBe(1);
			expect(result.stderr.trim().split("\n"), args.join(" ")).toEqual([expect.stringContaining(`no Twofold data folder at ${join(cwd, "data")}: it does not exist`)]);
			expect(result.stderr).toContain("TWOFOLD_DATA_DIR");
			expect(readdirSync(cwd), args.join(" ")).toEqual([]);
		}
	});

	it("refuse an existing folder without a database, and one with a database but no master key, leaving it as it was", async () => {
		const dataDir = join(cwd, "data");
		mkdirSync(dataDir);
		try {
			const empty = await cli(["tenants", "list"], UNSET, { cwd });
			expect(empty.code).toBe(1);
			expect(empty.stderr).toContain(`no Twofold data folder at ${dataDir}: it holds no database (twofold.db) and no master key (master.key)`);
			expect(readdirSync(dataDir)).toEqual([]);

			// A real installation whose key lives elsewhere (TWOFOLD_MASTER_KEY on the server, not in this shell).
			expect((await cli(["migrate"], UNSET, { cwd })).code).toBe(0);
			rmSync(join(dataDir, "master.key"));
			const keyless = await cli(["tenants", "list"], UNSET, { cwd });
			expect(keyless.code).toBe(1);
			expect(keyless.stderr).toContain(`no master key at ${join(dataDir, "master.key")}`);
			expect(keyless.stderr).toContain("TWOFOLD_MASTER_KEY");
			expect(existsSync(join(dataDir, "master.key"))).toBe(false);
		} finally {
			rmSync(dataDir, { recursive: true, force: true });
		}
	});

	it("serve and migrate still set up a new installation", async () => {
		const migrated = await cli(["migrate", "--json"], UNSET, { cwd });
		expect(migrated.code).toBe(0);
		expect(existsSync(join(cwd, "data", "master.key"))).toBe(true);
		const listed = await cli(["tenants", "list", "--json"], UNSET, { cwd });
		expect(listed.code).toBe(0);
		expect(JSON.parse(listed.stdout)).toEqual({ tenants: [] });
	});
});
