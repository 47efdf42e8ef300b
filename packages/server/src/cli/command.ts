import type { Config } from "../config.js";

/** One operator command: parses its own arguments with node:util parseArgs. */
export interface Command {
	name: string;
	summary: string;
	usage: string;
	/**
	 * What the command needs of the data folder. "create": it may make a new one (serve, migrate). "existing" (the
	 * default): the database and master key must be there already, so a command run from the wrong folder refuses
	 * instead of starting an empty installation with a new master key beside the real one (issue 13).
	 * "database-only": the database must exist; the master key is never read (backup).
	 */
	dataDir?: "create" | "existing" | "database-only";
	run(argv: string[], config: Readonly<Config>, out: Output): Promise<number>;
}

export interface Output {
	stdout(text: string): void;
	stderr(text: string): void;
}

export class UsageError extends Error {
	override readonly name = "UsageError";
}
