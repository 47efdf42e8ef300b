import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { checkDurability, DurabilityError } from "../src/store/dialects.js";
import { createPostgresSchema, POSTGRES_AVAILABLE } from "./helpers.js";

describe("durable commit before ack (D-1)", () => {
	it("the embedded store runs WAL with synchronous=FULL", async () => {
		const dir = mkdtempSync(join(tmpdir(), "twofold-dur-"));
		try {
			const app = await createApp(loadConfig({ TWOFOLD_DATA_DIR: dir, TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64") }, "/"));
			await app.close();
			const db = new BetterSqlite3(join(dir, "twofold.db"));
			expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
			db.close();
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it("refuses SQLite at synchronous=NORMAL or without WAL", async () => {
		const dir = mkdtempSync(join(tmpdir(), "twofold-dur-"));
		try {
			for (const pragmas of [["journal_mode = WAL", "synchronous = NORMAL"], ["journal_mode = DELETE", "synchronous = FULL"]]) {
				const database = new BetterSqlite3(join(dir, "unsafe.db"));
				for (const pragma of pragmas) database.pragma(pragma);
				const db = new Kysely<any>({ dialect: new SqliteDialect({ database }) });
				await expect(checkDurability(db, "sqlite")).rejects.toBeInstanceOf(DurabilityError);
				await db.destroy();
			}
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it.skipIf(!POSTGRES_AVAILABLE)("refuses PostgreSQL with synchronous_commit=off", async () => {
		const schema = await createPostgresSchema();
		try {
			const url = new URL(schema.url);
			url.searchParams.set("options", `${url.searchParams.get("options")} -c synchronous_commit=off`);
			const config = loadConfig({ TWOFOLD_DATABASE_URL: url.toString(), TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64") }, "/");
			await expect(createApp(config)).rejects.toBeInstanceOf(DurabilityError);
			const ok = await createApp(loadConfig({ TWOFOLD_DATABASE_URL: schema.url, TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64") }, "/"));
			await ok.close();
		} finally {
			await schema.drop();
		}
	});
});

describe("configuration errors name the variable", () => {
	it.each([
		[{ TWOFOLD_PORT: "80a" }, "TWOFOLD_PORT"],
		[{ TWOFOLD_PORT: "70000" }, "TWOFOLD_PORT"],
		[{ TWOFOLD_DATABASE_URL: "mysql://x" }, "TWOFOLD_DATABASE_URL"],
		[{ TWOFOLD_MASTER_KEY: "a", TWOFOLD_MASTER_KEY_FILE: "/x" }, "TWOFOLD_MASTER_KEY"],
		[{ TWOFOLD_LOG_LEVEL: "loud" }, "TWOFOLD_LOG_LEVEL"],
		[{ TWOFOLD_HOST: " " }, "TWOFOLD_HOST"],
	])("%j", (env, name) => {
		expect(() => loadConfig(env, "/")).toThrow(name);
	});

	it("a master key that is not 32 bytes of base64 stops the start", async () => {
		const config = loadConfig({ TWOFOLD_DATA_DIR: "/tmp/never", TWOFOLD_MASTER_KEY: Buffer.alloc(16).toString("base64") }, "/");
		await expect(createApp(config)).rejects.toThrow("TWOFOLD_MASTER_KEY");
	});
});
