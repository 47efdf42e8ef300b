import { parseArgs } from "node:util";
import { createApp } from "../app.js";
import type { Command } from "./command.js";

export const migrate: Command = {
	name: "migrate",
	summary: "bring the database schema up to date",
	dataDir: "create",
	usage: "twofold migrate [--json]",
	async run(argv, config, out) {
		const { values } = parseArgs({ args: argv, options: { json: { type: "boolean" } }, strict: true });
		// createApp migrates; the schema is current once it returns.
		const app = await createApp(config);
		await app.close();
		out.stdout(values.json ? JSON.stringify({ ok: true, dialect: app.store.dialect }) : `schema is up to date (${app.store.dialect})`);
		return 0;
	},
};
