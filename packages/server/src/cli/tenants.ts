import { parseArgs } from "node:util";
import { createApp } from "../app.js";
import { type Command, UsageError } from "./command.js";

export const tenants: Command = {
	name: "tenants",
	summary: "create or list tenants",
	usage: "twofold tenants create --name NAME [--json]\ntwofold tenants list [--json]",
	async run(argv, config, out) {
		const [action, ...rest] = argv;
		if (action === "create") {
			const { values } = parseArgs({ args: rest, options: { name: { type: "string" }, json: { type: "boolean" } }, strict: true });
			const name = values.name?.trim();
			if (name === undefined || name.length === 0 || name.length > 64) throw new UsageError("--name is required (1-64 characters)");
			const app = await createApp(config);
			try {
				const created = await app.services.tenants.create(name);
				out.stdout(
					values.json
						? JSON.stringify({ tenant_id: created.tenant.id, name: created.tenant.name, api_key: created.apiKey, key_id: created.keyId })
						: `tenant ${created.tenant.id} (${name})\nadmin API key (shown once): ${created.apiKey}`,
				);
			} finally {
				await app.close();
			}
			return 0;
		}
		if (action === "list") {
			const { values } = parseArgs({ args: rest, options: { json: { type: "boolean" } }, strict: true });
			const app = await createApp(config);
			try {
				const list = await app.services.tenants.list();
				out.stdout(
					values.json
						? JSON.stringify({ tenants: list })
						: list.map((t) => `${t.id}\t${t.name}\t${t.created_at}`).join("\n") || "no tenants",
				);
			} finally {
				await app.close();
			}
			return 0;
		}
		throw new UsageError(`unknown action ${JSON.stringify(action ?? "")}`);
	},
};
