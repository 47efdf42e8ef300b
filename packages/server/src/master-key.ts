import { randomBytes } from "node:crypto";
import { closeSync, constants, openSync, readFileSync, writeSync } from "node:fs";
import type { Config } from "./config.js";
import { ConfigError } from "./config.js";
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
 * Loads the master key (the KEK that seals factor secrets, R-ST-1). On the
 * embedded default, the first start writes a fresh key to <data dir>/master.key
 * with mode 0600; production passes TWOFOLD_MASTER_KEY or TWOFOLD_MASTER_KEY_FILE.
 */
export function loadMasterKey(config: Config): { key: Uint8Array; created: boolean } {
	const source = config.masterKey;
	if (source.source === "env") return { key: decodeKey(source.base64, "TWOFOLD_MASTER_KEY"), created: false };
	if (source.source === "file") {
		let text: string;
		try {
			text = readFileSync(source.path, "utf8");
		} catch {
			throw new ConfigError(`TWOFOLD_MASTER_KEY_FILE: cannot read ${source.path}`);
		}
		return { key: decodeKey(text, `TWOFOLD_MASTER_KEY_FILE (${source.path})`), created: false };
	}
	try {
		return { key: decodeKey(readFileSync(source.path, "utf8"), source.path), created: false };
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
		if ((error as NodeJS.ErrnoException).code === "EEXIST") return loadMasterKey(config);
		throw error;
	}
	return { key: new Uint8Array(key), created: true };
}
