import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { createPostgresSchema, DIALECTS } from "./helpers.js";

/**
 * Issue 12 "Also": a data folder made beforehand was not tightened (R-ST-1: key stores "strongly protected by access
 * controls"; RFC 6238 §5.1 "secure area"). With a pre-made 0755 folder twofold.db came out 0644 and a 0644 master.key
 * was read silently.
 */
const mode = (path: string) => statSync(path).mode & 0o777;

describe.each(DIALECTS)("data folder and key permissions (R-ST-1, issue 12) (%s)", (dialect) => {
	let root: string;
	let warnings: string[];
	let umask: number;
	beforeEach(() => {
		root = mkdtempSync(join(tmpdir(), "twofold-perm-"));
		warnings = [];
		// The usual umask, so that files SQLite creates would come out 0644 if nothing prevented it.
		umask = process.umask(0o022);
		const write = process.stderr.write.bind(process.stderr);
		vi.spyOn(process.stderr, "write").mockImplementation((chunk: any, ...rest: any[]) => {
			if (String(chunk).includes("tightened")) warnings.push(String(chunk));
			return write(chunk, ...rest);
		});
	});
	afterEach(() => {
		vi.restoreAllMocks();
		process.umask(umask);
		rmSync(root, { recursive: true, force: true });
	});

	const start = async (env: Record<string, string>) => {
		const pg = dialect === "postgres" ? await createPostgresSchema() : undefined;
		let app: Awaited<ReturnType<typeof createApp>>;
		try {
			app = await createApp(loadConfig({ ...env, ...(pg === undefined ? {} : { TWOFOLD_DATABASE_URL: pg.url }) }, root));
		} catch (error) {
			await pg?.drop();
			throw error;
		}
		return {
			app,
			close: async () => {
				await app.close();
				await pg?.drop();
			},
		};
	};

	it("tightens a pre-made 0755 folder and a 0644 master.key in it, saying so in a log line without the key", async () => {
		const dataDir = join(root, "data");
		mkdirSync(dataDir, { mode: 0o755 });
		chmodSync(dataDir, 0o755);
		const key = randomBytes(32).toString("base64");
		writeFileSync(join(dataDir, "master.key"), `${key}\n`, { mode: 0o644 });
		chmodSync(join(dataDir, "master.key"), 0o644);

		const { close } = await start({ TWOFOLD_DATA_DIR: dataDir });
		try {
			expect(mode(dataDir)).toBe(0o700);
			expect(mode(join(dataDir, "master.key"))).toBe(0o600);
			if (dialect === "sqlite") {
				for (const file of ["twofold.db", "twofold.db-wal", "twofold.db-shm"]) expect(mode(join(dataDir, file)), file).toBe(0o600);
			}
			const lines = warnings.join("");
			expect(lines).toContain("the data folder was accessible to group or others");
			expect(lines).toContain("the master key file was accessible to group or others");
			expect(lines).toContain('"mode_was":"0644"');
			expect(lines).not.toContain(key);
		} finally {
			await close();
		}
	});

	// SQLite's own files; PostgreSQL has none here. Registered for SQLite only, not skipped (CI fails on any skip).
	if (dialect === "sqlite") it("creates the database, its -wal and -shm 0600 under a 022 umask, and tightens loose ones left from before", async () => {
		const dataDir = join(root, "fresh");
		const env = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64") };
		let started = await start(env);
		for (const file of ["twofold.db", "twofold.db-wal", "twofold.db-shm"]) expect(mode(join(dataDir, file)), file).toBe(0o600);
		await started.close();
		expect(warnings).toEqual([]);

		// A copied backup or an operator's chmod: the files are group/world readable before the next start.
		chmodSync(dataDir, 0o755);
		for (const file of ["twofold.db", "twofold.db-wal", "twofold.db-shm"]) {
			writeFileSync(join(dataDir, file), "", { flag: "a" });
			chmodSync(join(dataDir, file), 0o644);
		}
		started = await start(env);
		try {
			for (const file of ["twofold.db", "twofold.db-wal", "twofold.db-shm"]) expect(mode(join(dataDir, file)), file).toBe(0o600);
			expect(mode(dataDir)).toBe(0o700);
			expect(warnings.join("")).toContain("the database was accessible to group or others");
		} finally {
			await started.close();
		}
	});

	it("refuses a TWOFOLD_MASTER_KEY_FILE that group or others can read, and accepts 0600, 0400 and root-owned 0640", async () => {
		const dataDir = join(root, "data");
		mkdirSync(dataDir, { mode: 0o700 });
		const keyFile = join(root, "master.key");
		writeFileSync(keyFile, `${randomBytes(32).toString("base64")}\n`);
		for (const loose of [0o644, 0o604, 0o666, 0o660, ...(process.getuid?.() === 0 ? [] : [0o640])]) {
			chmodSync(keyFile, loose);
			await expect(start({ TWOFOLD_DATA_DIR: dataDir, TWOFOLD_MASTER_KEY_FILE: keyFile }), loose.toString(8)).rejects.toThrow(/TWOFOLD_MASTER_KEY_FILE .* is accessible to group or others \(mode 0\d+\)/);
			expect(mode(keyFile)).toBe(loose); // not the operator's file to change
		}
		for (const tight of [0o600, 0o400, ...(process.getuid?.() === 0 ? [0o640] : [])]) {
			chmodSync(keyFile, tight);
			const { close } = await start({ TWOFOLD_DATA_DIR: dataDir, TWOFOLD_MASTER_KEY_FILE: keyFile });
			await close();
		}
	});
});
