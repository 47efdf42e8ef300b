import { parseArgs } from "node:util";
import { createApp } from "../app.js";
import { isId } from "../core/id.js";
import { ServiceError } from "../contract/service-error.js";
import { tenantContext } from "../services/tenant-context.js";
import { applicationTenantRefusal } from "./application-tenant.js";
import { type Command, UsageError } from "./command.js";

/** The hosted prompt's registered clients (issue 15), by the operator: the same service as POST /v1/clients. */
export const clients: Command = {
	name: "clients",
	summary: "register, list or delete a tenant's OpenID Connect clients (the hosted prompt)",
	usage:
		"twofold clients create --tenant ID --name NAME --redirect-uri URL [--redirect-uri URL…] [--id-token-alg RS256|EdDSA] [--auth client_secret_basic|client_secret_post] [--json]\n" +
		"    prints the client_id and, once, the client_secret\n" +
		"twofold clients list --tenant ID [--json]\n" +
		"twofold clients delete --tenant ID CLIENT_ID [--json]",
	async run(argv, config, out) {
		const [action, ...rest] = argv;
		const { values, positionals } = parseArgs({
			args: rest,
			options: {
				tenant: { type: "string" },
				name: { type: "string" },
				"redirect-uri": { type: "string", multiple: true },
				"id-token-alg": { type: "string" },
				auth: { type: "string" },
				json: { type: "boolean" },
			},
			allowPositionals: action === "delete",
			strict: true,
		});
		if (values.tenant === undefined || !isId("ten", values.tenant)) throw new UsageError("--tenant ID is required (ten_…)");
		if (action !== "create" && action !== "list" && action !== "delete") throw new UsageError(`unknown action ${JSON.stringify(action ?? "")}`);
		const app = await createApp(config);
		try {
			const tenant = await app.store.tenants.find(values.tenant);
			const refusal = applicationTenantRefusal(values.tenant, tenant !== undefined);
			if (refusal !== undefined || tenant === undefined) {
				out.stderr(refusal ?? "");
				return 1;
			}
			const ctx = tenantContext(tenant, { id: "cli", scope: "admin" });
			if (action === "create") {
				const name = values.name?.trim();
				if (name === undefined || name.length === 0) throw new UsageError("--name is required");
				const redirects = values["redirect-uri"] ?? [];
				if (redirects.length === 0) throw new UsageError("at least one --redirect-uri is required");
				const alg = values["id-token-alg"];
				if (alg !== undefined && alg !== "RS256" && alg !== "EdDSA") throw new UsageError("--id-token-alg must be RS256 or EdDSA");
				const auth = values.auth;
				if (auth !== undefined && auth !== "client_secret_basic" && auth !== "client_secret_post") throw new UsageError("--auth must be client_secret_basic or client_secret_post (private_key_jwt: POST /v1/clients with jwks)");
				const created = await app.services.clients.create(ctx, {
					name,
					redirect_uris: redirects,
					...(alg === undefined ? {} : { id_token_signed_response_alg: alg }),
					...(auth === undefined ? {} : { token_endpoint_auth_method: auth }),
				});
				out.stdout(
					values.json
						? JSON.stringify({ client_id: created.client.client_id, client_secret: created.client_secret, client: created.client })
						: `client ${created.client.client_id} (${created.client.name}) of ${values.tenant}\nclient_secret (shown once): ${created.client_secret}`,
				);
				return 0;
			}
			if (action === "list") {
				const list = await app.services.clients.list(ctx);
				out.stdout(values.json ? JSON.stringify({ tenant_id: values.tenant, clients: list }) : list.map((c) => `${c.client_id}\t${c.name}\t${c.redirect_uris.join(" ")}`).join("\n") || "no clients");
				return 0;
			}
			const [clientId] = positionals;
			if (clientId === undefined) throw new UsageError("the CLIENT_ID to delete is required");
			await app.services.clients.delete(ctx, clientId);
			out.stdout(values.json ? JSON.stringify({ deleted: clientId }) : `client ${clientId} deleted`);
			return 0;
		} catch (error) {
			if (error instanceof ServiceError) {
				const details = error.details?.map((detail) => `${detail.pointer} ${detail.message}`).join("; ");
				out.stderr(`twofold: ${error.code}${details === undefined ? "" : `: ${details}`}`);
				return 1;
			}
			throw error;
		} finally {
			await app.close();
		}
	},
};
