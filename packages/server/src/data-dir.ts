import { chmodSync, closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, type Stats, statSync } from "node:fs";
import type { Config } from "./config.js";
import { ConfigError } from "./config.js";

/**
 * The data folder holds the embedded database (every factor secret, sealed) and, by default, the master key that
 * unseals them (R-ST-1: keys "strongly protected by access controls"). Twofold creates them private (0700 folder,
 * 0600 files), but a folder made beforehand, a copied backup or a umask of 022 leaves them readable by group or
 * others. At every start each one that exists is tightened, with a log line saying what was found (so the operator
 * can ask whether the key was exposed and rotate it), and the database file is created 0600 before SQLite opens it:
 * SQLite creates its -wal and -shm files with the main file's permissions.
 */

export type Warn = (message: string, fields: Record<string, unknown>) => void;

const loose = (stats: Stats) => (stats.mode & 0o077) !== 0;
const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

function tighten(path: string, mode: 0o700 | 0o600, what: string, warn: Warn, hint?: string): void {
	let stats: Stats;
	try {
		stats = statSync(path); // through a symbolic link (a data folder on another volume): its target is what is read
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
		throw error;
	}
	if (!loose(stats)) return;
	try {
		chmodSync(path, mode);
	} catch (error) {
		throw new ConfigError(`${path} (${what}) is readable by group or others (mode ${octal(stats.mode)}) and cannot be tightened (${(error as NodeJS.ErrnoException).code}): chmod ${octal(mode)} it`);
	}
	warn(`${what} was accessible to group or others: tightened`, { path, mode_was: octal(stats.mode), mode_now: octal(mode), ...(hint === undefined ? {} : { hint }) });
}

/** Tightens (or creates private) the data folder and what Twofold keeps in it, before the key is read or the store opened. */
export function secureDataDir(config: Readonly<Config>, warn: Warn): void {
	if (process.platform === "win32") return; // POSIX modes only
	const keyInDataDir = config.masterKey.source === "data-dir";
	if (config.databaseURL !== undefined && !keyInDataDir) return; // nothing of Twofold's lives in the folder
	if (config.databaseURL === undefined) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
	if (!existsSync(config.dataDir)) return;
	tighten(config.dataDir, 0o700, "the data folder", warn);
	if (config.masterKey.source === "data-dir") {
		tighten(config.masterKey.path, 0o600, "the master key file", warn, "if anyone else could read it, rotate the master key (docs/deploy.md)");
	}
	if (config.databaseURL !== undefined) return;
	for (const [suffix, what] of [["", "the database"], ["-wal", "the database's write-ahead log"], ["-shm", "the database's shared-memory index"]] as const) {
		tighten(config.sqlitePath + suffix, 0o600, what, warn);
	}
	try {
		closeSync(openSync(config.sqlitePath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
	}
}

/**
 * A key file the operator points at (TWOFOLD_MASTER_KEY_FILE) is not Twofold's to change (often a read-only
 * mount), so a loose one is refused. The rule is PostgreSQL's for its server key: no access for others, and group
 * read only when root owns the file (a secret mounted root:service 0640).
 */
export function checkOperatorKeyFile(fd: number, path: string): void {
	if (process.platform === "win32") return;
	const stats = fstatSync(fd);
	const allowed = stats.uid === 0 ? 0o037 : 0o077;
	if ((stats.mode & allowed) !== 0) {
		throw new ConfigError(
			`TWOFOLD_MASTER_KEY_FILE (${path}) is accessible to group or others (mode ${octal(stats.mode)}): make it 0600 (or 0400; root-owned 0640 is accepted), and rotate the key if others could read it (docs/deploy.md)`,
		);
	}
}

/**
 * For commands that work on an existing installation (all but serve and migrate): refuses, naming the absolute
 * folder and the variables, when what createApp would otherwise create is missing: the SQLite database (unless
 * TWOFOLD_DATABASE_URL) and the master key file (unless TWOFOLD_MASTER_KEY or …_FILE). Run from another folder,
 * `twofold tenants list` used to make ./data, a fresh master key and an empty database there (issue 13).
 * Reads only: nothing is created or tightened when it refuses.
 */
export function requireExistingData(config: Readonly<Config>, needs: { masterKey: boolean }): void {
	const creates = '"twofold serve" or "twofold migrate" sets up a new one';
	const database = config.databaseURL === undefined && !existsSync(config.sqlitePath);
	const key = needs.masterKey && config.masterKey.source === "data-dir" && !existsSync(config.masterKey.path);
	if (database) {
		const found = !existsSync(config.dataDir) ? "it does not exist" : key ? "it holds no database (twofold.db) and no master key (master.key)" : "it holds no database (twofold.db)";
		throw new ConfigError(
			`no Twofold data folder at ${config.dataDir}: ${found}. Run this where the server's data folder is, or set TWOFOLD_DATA_DIR to it ` +
				`(TWOFOLD_DATABASE_URL for PostgreSQL); ${creates}`,
		);
	}
	if (key) {
		throw new ConfigError(
			`no master key at ${config.masterKey.path} (TWOFOLD_DATA_DIR is ${config.dataDir}): set TWOFOLD_MASTER_KEY or TWOFOLD_MASTER_KEY_FILE as the server has it, ` +
				`or TWOFOLD_DATA_DIR to the folder that holds master.key; ${creates}`,
		);
	}
}
