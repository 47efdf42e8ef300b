// Issue 17's round trip for the otpauth export when the labels are awkward: a tenant whose name holds ": " and user ids
// with a colon, or with spaces at either end. The export of one Twofold, imported into a fresh one with
// --user-from label, must give the same user ids (an application looks its users up by them) and codes that verify.
import { describe, expect, it } from "vitest";
import { runExport } from "../src/services/exports.js";
import { runImport } from "../src/services/imports.js";
import { tenantContext, type TenantContext } from "../src/services/tenant-context.js";
import { buildTestApp, codeFor, DIALECTS, nextStep, type TestApp } from "./helpers.js";

const USER_IDS = [" bob", "alice", "a:b", "x: y", "trailing ", "Acme: EU:carol"];

async function adminContext(t: TestApp, tenantId: string): Promise<TenantContext> {
	const { store } = t.app.services.deps;
	const tenant = await store.tenants.find(tenantId);
	const [key] = await store.apiKeys.list(tenantId);
	return tenantContext(tenant!, { id: key!.id, scope: "admin" });
}

async function* bytesOf(text: string): AsyncGenerator<Uint8Array> {
	yield Buffer.from(text, "utf8");
}

describe.each(DIALECTS)("otpauth export → import round trip with colons and spaces in names (%s)", (dialect) => {
	it('tenant "Acme: EU", user ids " bob", "a:b", "trailing ": the same user ids come back with --user-from label, and their codes verify', async () => {
		const source = await buildTestApp({ dialect });
		const fresh = await buildTestApp({ dialect });
		try {
			const { tenant, apiKey } = await source.app.services.tenants.create("Acme: EU");
			const secrets = new Map<string, string>();
			for (const userId of USER_IDS) {
				const path = `/v1/users/${encodeURIComponent(userId)}/factors`;
				const enrolled = await source.call("POST", path, { type: "totp" }, apiKey);
				expect(enrolled.status, enrolled.body).toBe(201);
				const secret: string = enrolled.json.totp.secret;
				const confirmed = await source.call("POST", `${path}/${enrolled.json.factor.id}/confirm`, { code: codeFor(secret, source.clock()) }, apiKey);
				expect(confirmed.status, confirmed.body).toBe(200);
				secrets.set(userId, secret);
			}
			const chunks: string[] = [];
			await runExport(source.app.services.deps, await adminContext(source, tenant.id), { format: "otpauth" }, async (chunk) => {
				chunks.push(chunk);
			});

			const report = await runImport(fresh.app.services.deps, await adminContext(fresh, fresh.tenantId), bytesOf(chunks.join("")), { format: "auto", dryRun: false, userFrom: "label" });
			expect(report).toMatchObject({ status: "completed", counts: { users_created: USER_IDS.length, factors_created: USER_IDS.length, invalid: 0, skipped: 0 } });
			nextStep(fresh.clock);
			for (const userId of USER_IDS) {
				const verified = await fresh.call("POST", `/v1/users/${encodeURIComponent(userId)}/verify`, { code: codeFor(secrets.get(userId)!, fresh.clock()) });
				expect(verified.status, `${JSON.stringify(userId)}: ${verified.body}`).toBe(200);
			}
			// Nobody else: not "bob" without its space, not "trailing" without its space, not "b" from "a:b".
			for (const other of ["bob", "trailing", "b", "carol", "EU:carol"]) expect((await fresh.call("GET", `/v1/users/${encodeURIComponent(other)}`)).status).toBe(404);
		} finally {
			await source.close();
			await fresh.close();
		}
	});
});
