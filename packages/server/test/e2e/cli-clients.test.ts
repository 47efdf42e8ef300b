import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { cli } from "./process.js";

/** `twofold clients` (issue 15): the operator registers the prompt's clients; the secret is printed once and stored sealed. */
describe("operator CLI: clients", () => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-cli-clients-"));
	const env = { TWOFOLD_DATA_DIR: dataDir };
	afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

	it("creates (client_id and the secret once), lists without the secret, refuses insecure redirect URIs, deletes", async () => {
		expect((await cli(["migrate"], env)).code).toBe(0);
		const tenant = JSON.parse((await cli(["tenants", "create", "--name", "Acme", "--json"], env)).stdout);
		const created = await cli(["clients", "create", "--tenant", tenant.tenant_id, "--name", "Shop", "--redirect-uri", "https://shop.example/cb", "--redirect-uri", "http://127.0.0.1:3000/cb", "--json"], env);
		expect(created.code, created.stderr).toBe(0);
		const client = JSON.parse(created.stdout);
		expect(client).toMatchObject({ client_id: expect.stringMatching(/^cli_/), client_secret: expect.any(String) });
		expect(client.client.redirect_uris).toEqual(["https://shop.example/cb", "http://127.0.0.1:3000/cb"]);

		const listed = await cli(["clients", "list", "--tenant", tenant.tenant_id, "--json"], env);
		expect(JSON.parse(listed.stdout).clients.map((c: { client_id: string }) => c.client_id)).toEqual([client.client_id]);
		expect(listed.stdout).not.toContain(client.client_secret);

		// The secret works at the tenant's token endpoint's client authentication (PAR), read from its envelope.
		const node = await createApp(loadConfig(env, process.cwd()), { logger: false });
		try {
			const http = await node.http();
			const par = await http.inject({
				method: "POST",
				url: `/t/${tenant.tenant_id}/par`,
				headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
				payload: new URLSearchParams({ client_id: client.client_id, response_type: "code", scope: "openid", redirect_uri: "https://shop.example/cb", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256", login_hint: "alice" }).toString(),
			});
			expect(par.statusCode, par.body).toBe(201);
		} finally {
			await node.close();
		}

		const insecure = await cli(["clients", "create", "--tenant", tenant.tenant_id, "--name", "X", "--redirect-uri", "http://shop.example/cb"], env);
		expect(insecure.code).toBe(1);
		expect(insecure.stderr).toContain("/redirect_uris/0");

		expect((await cli(["clients", "delete", "--tenant", tenant.tenant_id, client.client_id, "--json"], env)).code).toBe(0);
		expect(JSON.parse((await cli(["clients", "list", "--tenant", tenant.tenant_id, "--json"], env)).stdout).clients).toEqual([]);
		expect((await cli(["clients", "delete", "--tenant", tenant.tenant_id, client.client_id], env)).code).toBe(1);
		// Nine CLI processes, each opening the store: a loaded CI machine needs more than the default minute.
	}, 180_000);
});
