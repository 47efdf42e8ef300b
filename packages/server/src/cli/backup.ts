import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import BetterSqlite3 from "better-sqlite3";
import { type Command, UsageError } from "./command.js";

export const backup: Command = {
	name: "backup",
	summary: "write a consistent copy of the embedded SQLite database, while the server runs",
	dataDir: "database-only",
	usage:
		"twofold backup FILE [--json]\n" +
		"    SQLite only (PostgreSQL: pg_dump). The copy holds sealed secrets but not the master key: back the\n" +
		"    key up separately. After restoring any backup, run twofold restore-fence before starting.",
	async run(argv, config, out) {
		const { values, positionals } = parseArgs({ args: argv, options: { json: { type: "boolean" } }, allowPositionals: true, strict: true });
		if (positionals.length !== 1) throw new UsageError("give exactly one FILE");
		if (config.databaseURL !== undefined) {
			out.stderr("twofold backup: TWOFOLD_DATABASE_URL is set; back PostgreSQL up with pg_dump (see docs/deploy.md)");
			return 1;
		}
		const file = resolve(positionals[0]!);
		if (existsSync(file)) {
			out.stderr(`twofold backup: ${file} exists; give a new file name`);
			return 1;
		}
		if (!existsSync(config.sqlitePath)) {
			out.stderr(`twofold backup: no database at ${config.sqlitePath}`);
			return 1;
		}
		const database = new BetterSqlite3(config.sqlitePath, { readonly: true, fileMustExist: true });
		try {
			database.pragma("busy_timeout = 5000");
			// VACUUM INTO copies one read transaction's snapshot: consistent while the server writes, and
			// never restarted by those writes (unlike the page-by-page backup API).
			const previous = process.umask(0o077);
			try {
				database.prepare("vacuum into ?").run(file);
			} finally {
				process.umask(previous);
			}
		} finally {
			database.close();
		}
		out.stdout(values.json ? JSON.stringify({ ok: true, file }) : `backup written to ${file} (mode 0600; the master key is not in it)`);
		return 0;
	},
};
