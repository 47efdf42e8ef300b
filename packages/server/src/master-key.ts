import { randomBytes } from "node:crypto";
import { closeSync, constants, openSync, readFileSync, writeSync } from "node:fs";
import type { Config } from "./config.js";
import { ConfigError } from "./config.js";
import { checkOperatorKeyFile } from "./data-dir.js";
import { MASTER_KEY_BYTES } from "./core/keyring.js";

function decodeKey(text: string, origin: string): Uint8Array {
	const trimmed = text.trim();
	const bytes = Buffer.from(trimmed, "base64");
	if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || bytes.byteLength !== MASTER_KEY_BYTES) {
		throw new ConfigError(`${origin} must be the base64 encoding of ${MASTER_KEY_BYTES} random bytes`);
	}
	return new Uint8Array(bytes);
}

/**
 * Several keys for a rotation (R-ST-3): comma-separated in TWOFOLD_MASTER_KEY, one a line in a key file
 * (blank lines and # comments skipped). The first seals; the others only open what they sealed before.
 */
function decodeKeys(text: string, origin: string, separator: RegExp): Uint8Array[] {
	const entries = text
		.split(separator)
		.map((entry) => entry.trim())
		.filter((entry) => entry !== "" && !entry.startsWith("#"));
	if (entries.length === 0) throw new ConfigError(`${origin} holds no key`);
	const keys = entries.map((entry, index) => decodeKey(entry, entries.length === 1 ? origin : `${origin} (key ${index + 1})`));
	if (new Set(keys.map((key) => Buffer.from(key).toString("base64"))).size !== keys.length) throw new ConfigError(`${origin} lists a key twice`);
	return keys;
}

/**
 * Loads the master keys (the KEKs that seal factor secrets, R-ST-1), the active
 * one first. On the embedded default, the first start writes a fresh key to
 * <data dir>/master.key with mode 0600 (secureDataDir tightens one found looser); production passes
 * TWOFOLD_MASTER_KEY or TWOFOLD_MASTER_KEY_FILE (refused when group or others can read it).
 */
export function loadMasterKeys(config: Config): { keys: Uint8Array[]; created: boolean } {
	const source = config.masterKey;
	if (source.source === "env") return { keys: decodeKeys(source.base64, "TWOFOLD_MASTER_KEY", /,/), created: false };
	if (source.source === "file") {
		let fd: number;
		try {
			fd = openSync(source.path, constants.O_RDONLY);
		} catch {
			throw new ConfigError(`TWOFOLD_MASTER_KEY_FILE: cannot read ${source.path}`);
		}
		let text: string;
		try {
			checkOperatorKeyFile(fd, source.path);
			text = readFileSync(fd, "utf8");
		} catch (error) {
			if (error instanceof ConfigError) throw error;
			throw new ConfigError(`TWOFOLD_MASTER_KEY_FILE: cannot read ${source.path}`);
		} finally {
			closeSync(fd);
		}
		return { keys: decodeKeys(text, `TWOFOLD_MASTER_KEY_FILE (${source.path})`, /\r?\n/), created: false };
	}
	try {
		return { keys: decodeKeys(readFileSync(source.path, "utf8"), source.path, /\r?\n/), created: false };
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
	}
	const key = randomBytes(MASTER_KEY_BYTES);
	// O_EXCL: two processes starting at once cannot both create (and diverge on) the key.
	try {
		const fd = openSync(source.path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
		writeSync(fd, `${key.toString("base64")}\n`);
		closeSync(fd);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "EEXIST") return loadMasterKeys(config);
		throw error;
	}
	return { keys: [new Uint8Array(key)], created: true };
}
