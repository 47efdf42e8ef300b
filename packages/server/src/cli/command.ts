import type { Config } from "../config.js";

/** One operator command: parses its own arguments with node:util parseArgs. */
export interface Command {
	name: string;
	summary: string;
	usage: string;
	run(argv: string[], config: Readonly<Config>, out: Output): Promise<number>;
}

export interface Output {
	stdout(text: string): void;
	stderr(text: string): void;
}

export class UsageError extends Error {
	override readonly name = "UsageError";
}
