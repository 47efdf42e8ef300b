import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashAPIKeySecret } from "../../src/core/api-key.js";
import { createPostgresSchema, DIALECTS } from "../helpers.js";
import { cli, startServer } from "./process.js";

/**
 * `twofold keys list --tenant` (issue 13) against a real server process that used a key. On PostgreSQL with the
 * master key in the environment the CLI runs from an empty folder and needs, and makes, no data folder.
 */
describe.each(DIALECTS)("twofold keys list (%s)", (dialect) => {
	const cwd = realpathSync(mkdtempSync(join(tmpdir(), "twofold-keys-list-")));
	let env: Record<string, string | undefined>;
	let schema: Awaited<ReturnType<typeof createPostgresSchema>> | undefined;

	beforeAll(async () => {
		if (dialect === "postgres") {
			schema = await createPostgresSchema();
			env = { TWOFOLD_DATA_DIR: undefined, TWOFOLD_DATABASE_URL: schema.url, TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64"), TWOFOLD_MASTER_KEY_FILE: undefined };
			// migrate sets the schema up, as an operator does before the first node starts.
			expect((await cli(["migrate"], env, { cwd })).code).toBe(0);
		} else {
			env = { TWOFOLD_DATA_DIR: join(cwd, "data"), TWOFOLD_DATABASE_URL: undefined, TWOFOLD_MASTER_KEY: undefined, TWOFOLD_MASTER_KEY_FILE: undefined };
			expect((await cli(["migrate"], env, { cwd })).code).toBe(0);
		}
	});
	afterAll(async () => {
		await schema?.drop();
		rmSync(cwd, { recursive: true, force: true });
	});

	it("shows ids, scopes, created, last used and revoked, and never a secret or hash", { timeout: 120_000 }, async () => {
		const tenant = JSON.parse((await cli(["tenants", "create", "--name", "Acme", "--json"], env, { cwd })).stdout) as { tenant_id: string; api_key: string; key_id: string };
		const backend = JSON.parse((await cli(["keys", "create", "--tenant", tenant.tenant_id, "--scope", "default", "--json"], env, { cwd })).stdout) as { key_id: string; api_key: string };
		const spare = JSON.parse((await cli(["keys", "create", "--tenant", tenant.tenant_id, "--json"], env, { cwd })).stdout) as { key_id: string; api_key: string };
		expect((await cli(["keys", "revoke", spare.key_id], env, { cwd })).code).toBe(0);

		// The application backend's key authenticates one request on a running server.
		const before = Date.now();
		const server = await startServer(schema === undefined ? { TWOFOLD_DATA_DIR: env.TWOFOLD_DATA_DIR! } : { TWOFOLD_DATABASE_URL: env.TWOFOLD_DATABASE_URL!, TWOFOLD_MASTER_KEY: env.TWOFOLD_MASTER_KEY! });
		try {
			expect((await fetch(`${server.url}/v1/tenant`, { headers: { authorization: `Bearer ${backend.api_key}` } })).status).toBe(200);
		} finally {
			await server.stop();
		}

		const listed = await cli(["keys", "list", "--tenant", tenant.tenant_id, "--json"], env, { cwd });
		expect(listed.code).toBe(0);
		const { keys } = JSON.parse(listed.stdout) as { keys: { key_id: string; scope: string; created_at: string; last_used_at: string | null; revoked_at: string | null }[] };
		expect(keys.map((key) => [key.key_id, key.scope])).toEqual([
			[tenant.key_id, "admin"],
			[backend.key_id, "default"],
			[spare.key_id, "default"],
		]);
		for (const key of keys) expect(Object.keys(key).sort()).toEqual(["created_at", "key_id", "last_used_at", "revoked_at", "scope"]);
		const [admin, used, revoked] = keys as [(typeof keys)[0], (typeof keys)[0], (typeof keys)[0]];
		expect(admin.last_used_at).toBeNull();
		expect(Date.parse(used.last_used_at!)).toBeGreaterThanOrEqual(before);
		expect(Date.parse(used.last_used_at!)).toBeLessThanOrEqual(Date.now());
		expect(used.revoked_at).toBeNull();
		expect(Date.parse(revoked.revoked_at!)).toBeGreaterThan(0);

		const human = await cli(["keys", "list", "--tenant", tenant.tenant_id], env, { cwd });
		expect(human.code).toBe(0);
		expect(human.stdout.split("\n")[0]).toMatch(/^KEY_ID\s+SCOPE\s+CREATED\s+LAST_USED\s+REVOKED$/);
		expect(human.stdout).toMatch(new RegExp(`^${tenant.key_id}\\s+admin\\s+\\S+\\s+never\\s+-$`, "m"));
		expect(human.stdout).toMatch(new RegExp(`^${backend.key_id}\\s+default\\s+\\S+\\s+${used.last_used_at!.replace(/\./g, "\\.")}\\s+-$`, "m"));

		// Neither a token's secret part nor its stored hash appears, in either form.
		const hashes = await storedHashes(env, tenant.tenant_id);
		expect(hashes).toHaveLength(3);
		for (const token of [tenant.api_key, backend.api_key, spare.api_key]) {
			const secret = token.slice(token.lastIndexOf("_") + 1);
			expect(hashes).toContain(hashAPIKeySecret(secret));
			for (const output of [listed.stdout, human.stdout]) {
				expect(output).not.toContain(secret);
				expect(output).not.toContain("tfk_");
			}
		}
		for (const hash of hashes) for (const output of [listed.stdout, human.stdout]) expect(output).not.toContain(hash);
		// PostgreSQL with the key in the environment: nothing was written to the working folder.
		if (schema !== undefined) expect(readdirSync(cwd)).toEqual([]);
	});

	it("refuses an unknown tenant and a missing --tenant", async () => {
		const unknown = await cli(["keys", "list", "--tenant", "ten_00000000000000000000000000"], env, { cwd });
		expect(unknown.code).toBe(1);
		expect(unknown.stderr).toContain("no tenant ten_00000000000000000000000000");
		const missing = await cli(["keys", "list"], env, { cwd });
		expect(missing.code).toBe(2);
		expect(missing.stderr).toContain("--tenant ID is required");
	});
});

/** The hashes as stored, to be sure the test compares against what a leak would print. */
async function storedHashes(env: Record<string, string | undefined>, tenantId: string): Promise<string[]> {
	if (env.TWOFOLD_DATABASE_URL === undefined) {
		const { default: Database } = await import("better-sqlite3");
		const db = new Database(join(env.TWOFOLD_DATA_DIR!, "twofold.db"), { readonly: true });
		try {
			return (db.prepare("select secret_hash from api_keys where tenant_id = ?").all(tenantId) as { secret_hash: string }[]).map((row) => row.secret_hash);
		} finally {
			db.close();
		}
	}
	const client = new pg.Client({ connectionString: env.TWOFOLD_DATABASE_URL });
	await client.connect();
	try {
		return (await client.query<{ secret_hash: string }>("select secret_hash from api_keys where tenant_id = $1", [tenantId])).rows.map((row) => row.secret_hash);
	} finally {
		await client.end();
	}
}
