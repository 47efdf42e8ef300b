#!/usr/bin/env node
import { backup } from "./cli/backup.js";
import { keys } from "./cli/keys.js";
import { migrate } from "./cli/migrate.js";
import { restoreFence } from "./cli/restore-fence.js";
import { serve } from "./cli/serve.js";
import { tenants } from "./cli/tenants.js";
import { operators } from "./cli/operators.js";
import { clients } from "./cli/clients.js";
import { importCommand } from "./cli/import.js";
import { exportCommand } from "./cli/export.js";
import { type Command, type Output, UsageError } from "./cli/command.js";
import { ConfigError, loadConfig } from "./config.js";
import { requireExistingData } from "./data-dir.js";
import { DurabilityError } from "./store/dialects.js";

const COMMANDS: readonly Command[] = [serve, migrate, tenants, operators, clients, keys, backup, restoreFence, importCommand, exportCommand];

const out: Output = {
	stdout: (text) => process.stdout.write(`${text}\n`),
	stderr: (text) => process.stderr.write(`${text}\n`),
};

function help(): string {
	const lines = COMMANDS.map((command) => `  ${command.name.padEnd(13)} ${command.summary}`);
	return ["usage: twofold <command> [options]   (twofold <command> --help for details)", "", "commands:", ...lines].join("\n");
}

async function main(argv: string[]): Promise<number> {
	const [name, ...rest] = argv;
	if (name === undefined || name === "--help" || name === "-h" || name === "help") {
		out.stdout(help());
		return name === undefined ? 2 : 0;
	}
	const command = COMMANDS.find((candidate) => candidate.name === name);
	if (command === undefined) {
		out.stderr(`twofold: unknown command ${JSON.stringify(name)}\n\n${help()}`);
		return 2;
	}
	if (rest.includes("--help") || rest.includes("-h")) {
		out.stdout(`usage:\n${command.usage.replace(/^/gm, "  ")}\n\n${command.summary}\nConfiguration comes from TWOFOLD_* environment variables (see README).`);
		return 0;
	}
	try {
		// The only place that reads process.env.
		const config = loadConfig(process.env, process.cwd());
		const dataDir = command.dataDir ?? "existing";
		if (dataDir !== "create") requireExistingData(config, { masterKey: dataDir === "existing" });
		return await command.run(rest, config, out);
	} catch (error) {
		if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
			out.stderr(`twofold ${name}: ${(error as Error).message}\nusage:\n${command.usage.replace(/^/gm, "  ")}`);
			return 2;
		}
		if (error instanceof ConfigError || error instanceof DurabilityError) {
			out.stderr(`twofold: ${error.message}`);
			return 1;
		}
		throw error;
	}
}

process.exitCode = await main(process.argv.slice(2));
