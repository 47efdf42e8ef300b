import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SYSTEM_TENANT_ID } from "../../src/core/system-tenant.js";
import { cli } from "./process.js";

/**
 * `twofold operators` (issue 16): the only way to manage the console's operators. The link is printed once, with its
 * token in the fragment; the system tenant that holds the operators is refused by every command meant for an
 * application's tenant, and never listed as one.
 */
describe("operator CLI: operators", () => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-cli-operators-"));
	const env = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_PUBLIC_URL: "https://2fa.example" };
	afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

	it("creates, lists, reissues and disables operators; refuses what it cannot do in one line naming why", async () => {
		expect((await cli(["migrate"], env)).code).toBe(0);
		const tenant = JSON.parse((await cli(["tenants", "create", "--name", "Acme", "--json"], env)).stdout);
		const uris = join(dataDir, "uris.txt");
		writeFileSync(uris, "otpauth://totp/A:x?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n");

		const created = await cli(["operators", "create", "--name", "alice", "--role", "support", "--tenant", tenant.tenant_id, "--json"], env);
		expect(created.code, created.stderr).toBe(0);
		const alice = JSON.parse(created.stdout);
		expect(alice.operator).toMatchObject({ name: "alice", role: "support", tenants: [tenant.tenant_id], enrollment: "pending" });
		expect(alice.enrollment_link).toMatch(/^https:\/\/2fa\.example\/console\/enroll#token=[0-9a-hjkmnp-tv-z]{52}$/);
		const text = await cli(["operators", "create", "--name", "bob", "--role", "admin", "--all-tenants"], env);
		expect(text.code, text.stderr).toBe(0);
		expect(text.stdout).toContain("created operator bob (admin, all tenants)");
		expect(text.stdout).toMatch(/shown once, single use/);

		const listed = await cli(["operators", "list", "--json"], env);
		expect(JSON.parse(listed.stdout).operators.map((o: { name: string; status: string }) => `${o.name}:${o.status}`)).toEqual(["alice:active", "bob:active"]);
		// The list never shows a link or its token.
		expect(listed.stdout).not.toContain(alice.enrollment_link.split("#token=")[1]);
		expect(listed.stdout).not.toContain("enrollment_hash");

		const reissued = JSON.parse((await cli(["operators", "reissue", "--name", "alice", "--json"], env)).stdout);
		expect(reissued.enrollment_link).not.toBe(alice.enrollment_link);
		const disabled = await cli(["operators", "disable", "--name", "bob"], env);
		expect(disabled.stdout).toContain("operator bob disabled");

		for (const [args, says] of [
			[["operators", "create", "--name", "alice", "--role", "viewer", "--all-tenants"], "twofold: an operator named alice exists already"],
			[["operators", "create", "--name", "carol", "--role", "viewer", "--tenant", SYSTEM_TENANT_ID], `twofold: no tenant ${SYSTEM_TENANT_ID}`],
			[["operators", "disable", "--name", "bob"], "twofold: operator bob is disabled already"],
			[["operators", "reissue", "--name", "nobody"], "twofold: no operator named nobody"],
			[["keys", "create", "--tenant", SYSTEM_TENANT_ID], "is the system tenant"],
			[["clients", "create", "--tenant", SYSTEM_TENANT_ID, "--name", "X", "--redirect-uri", "https://x.example/cb"], "is the system tenant"],
			[["import", "--tenant", SYSTEM_TENANT_ID, "--format", "otpauth", "--dry-run", uris], "is the system tenant"],
			[["export", "--tenant", SYSTEM_TENANT_ID, "--format", "otpauth", "--i-understand-plaintext", "--out", join(dataDir, "x.txt")], "is the system tenant"],
		] as const) {
			const refused = await cli([...args], env);
			expect(refused.code, `${args.join(" ")}: ${refused.stdout}`).toBe(1);
			expect(refused.stderr).toContain(says);
		}
		for (const args of [["operators", "create", "--name", "carol", "--role", "root", "--all-tenants"], ["operators", "create", "--name", "carol", "--role", "viewer"], ["operators", "create", "--name", "carol", "--role", "viewer", "--all-tenants", "--tenant", tenant.tenant_id]]) {
			expect((await cli(args, env)).code, args.join(" ")).toBe(2);
		}
		// The applications' tenants only.
		expect(JSON.parse((await cli(["tenants", "list", "--json"], env)).stdout).tenants.map((t: { id: string }) => t.id)).toEqual([tenant.tenant_id]);
	}, 240_000);
});
