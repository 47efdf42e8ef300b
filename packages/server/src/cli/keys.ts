import { parseArgs } from "node:util";
import { createApp } from "../app.js";
import { isId } from "../core/id.js";
import { rewrapSecrets } from "../services/master-key-rotation.js";
import type { PublicAPIKey } from "../services/api-keys.js";
import { applicationTenantRefusal } from "./application-tenant.js";
import { type Command, UsageError } from "./command.js";

export const keys: Command = {
	name: "keys",
	summary: "create, list or revoke tenant API keys; rotate the assertion signing key; rewrap secrets after a master-key change",
	usage:
		"twofold keys create --tenant ID [--scope default|admin] [--json]\n" +
		"twofold keys list --tenant ID [--json]\n" +
		"    id, scope, created, last used (to the minute; \"never\": not used since Twofold began recording it), revoked; never a secret\n" +
		"twofold keys revoke KEY_ID [--json]\n" +
		"twofold keys rotate-signing [--immediate] [--json]\n" +
		"    a new assertion signing key: published now, signing in 2 minutes (--immediate: now);\n" +
		"    the old key stays in the JWKS until its assertions expire; the prompt's id_token keys (RS256, EdDSA) rotate with it\n" +
		"twofold keys rewrap [--json]\n" +
		"    seals every stored secret again under the active master key (the first one configured), while\n" +
		"    the service runs; afterwards the older master keys can be removed (docs/deploy.md)",
	async run(argv, config, out) {
		const [action, ...rest] = argv;
		if (action === "create") {
			const { values } = parseArgs({
				args: rest,
				options: { tenant: { type: "string" }, scope: { type: "string", default: "default" }, json: { type: "boolean" } },
				strict: true,
			});
			if (values.tenant === undefined || !isId("ten", values.tenant)) throw new UsageError("--tenant ID is required (ten_…)");
			if (values.scope !== "default" && values.scope !== "admin") throw new UsageError("--scope must be default or admin");
			const app = await createApp(config);
			try {
				const refusal = applicationTenantRefusal(values.tenant, (await app.store.tenants.find(values.tenant)) !== undefined);
				if (refusal !== undefined) {
					out.stderr(refusal);
					return 1;
				}
				const key = await app.services.apiKeys.create(values.tenant, values.scope);
				out.stdout(
					values.json
						? JSON.stringify({ key_id: key.id, tenant_id: values.tenant, scope: key.scope, api_key: key.token })
						: `key ${key.id} (${key.scope}) for ${values.tenant}\nAPI key (shown once): ${key.token}`,
				);
			} finally {
				await app.close();
			}
			return 0;
		}
		if (action === "list") {
			const { values } = parseArgs({ args: rest, options: { tenant: { type: "string" }, json: { type: "boolean" } }, strict: true });
			if (values.tenant === undefined || !isId("ten", values.tenant)) throw new UsageError("--tenant ID is required (ten_…)");
			const app = await createApp(config);
			try {
				const list = await app.services.apiKeys.list(values.tenant);
				if (list === undefined) {
					out.stderr(`twofold: no tenant ${values.tenant}`);
					return 1;
				}
				out.stdout(values.json ? JSON.stringify({ tenant_id: values.tenant, keys: list }) : keyTable(list));
			} finally {
				await app.close();
			}
			return 0;
		}
		if (action === "revoke") {
			const { values, positionals } = parseArgs({ args: rest, options: { json: { type: "boolean" } }, allowPositionals: true, strict: true });
			const [keyId] = positionals;
			if (keyId === undefined || positionals.length !== 1) throw new UsageError("give exactly one KEY_ID");
			const app = await createApp(config);
			try {
				const revoked = await app.services.apiKeys.revoke(keyId);
				if (!revoked) {
					out.stderr(values.json ? JSON.stringify({ revoked: false, key_id: keyId }) : `twofold: no active key ${keyId}`);
					return 1;
				}
				out.stdout(values.json ? JSON.stringify({ revoked: true, key_id: keyId }) : `revoked ${keyId}`);
			} finally {
				await app.close();
			}
			return 0;
		}
		if (action === "rotate-signing") {
			const { values } = parseArgs({ args: rest, options: { json: { type: "boolean" }, immediate: { type: "boolean" } }, strict: true });
			const app = await createApp(config);
			try {
				// Every node reads the key list within a second; no restart (the keys live in the database).
				const rotated = await app.services.assertions.rotateSigningKey({ immediate: values.immediate === true });
				out.stdout(
					values.json
						? JSON.stringify(rotated)
						: `signing key ${rotated.kid} is published and signs from ${rotated.activates_at}; ` +
								`${rotated.retiring.join(", ") || "no key"} signs until then and stays published until its assertions expire; ` +
								`the prompt's id_token keys ${rotated.id_token_keys.kids.join(", ")} likewise`,
				);
			} finally {
				await app.close();
			}
			return 0;
		}
		if (action === "rewrap") {
			const { values } = parseArgs({ args: rest, options: { json: { type: "boolean" } }, strict: true });
			const app = await createApp(config);
			try {
				const report = await rewrapSecrets(app.services.deps);
				const removable = report.key_ids_in_use.every((id) => id === report.active_key_id);
				out.stdout(
					values.json
						? JSON.stringify({ ...report, older_keys_removable: removable })
						: `rewrapped ${report.rewrapped} of ${report.examined} secrets under master key ${report.active_key_id}` +
								(report.skipped > 0 ? ` (${report.skipped} changed meanwhile and were sealed by that change)` : "") +
								(removable ? "; no secret needs an older master key now" : `; still in use: ${report.key_ids_in_use.join(", ")} (run again)`),
				);
			} finally {
				await app.close();
			}
			return 0;
		}
		throw new UsageError(`unknown action ${JSON.stringify(action ?? "")}`);
	},
};

function keyTable(list: readonly PublicAPIKey[]): string {
	if (list.length === 0) return "no keys";
	const rows = [
		["KEY_ID", "SCOPE", "CREATED", "LAST_USED", "REVOKED"],
		...list.map((key) => [key.key_id, key.scope, key.created_at, key.last_used_at ?? "never", key.revoked_at ?? "-"]),
	];
	const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
	return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n");
}
