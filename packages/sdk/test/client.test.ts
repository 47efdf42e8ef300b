import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: the generator is a plain script.
import { renderApiTypes } from "../scripts/api-types.mjs";
import { buildTestApp, codeFor, nextStep, type TestApp } from "../../server/test/helpers.js";
import { png1x1 } from "../../server/test/logo-fixtures.js";
import { OPERATIONS, TwofoldClient, TwofoldError } from "../src/index.js";

/** The typed client against a real Twofold over loopback HTTP, and its operation list checked against the OpenAPI document. */
describe("TwofoldClient", () => {
	let t: TestApp;
	let client: TwofoldClient;
	beforeAll(async () => {
		t = await buildTestApp();
		client = new TwofoldClient({ baseUrl: await t.http.listen({ host: "127.0.0.1", port: 0 }), apiKey: t.adminKey });
	});
	afterAll(() => t.close());

	it("is typed from the OpenAPI document (regenerated here: no drift) and covers every operation of it", async () => {
		const spec = (await t.call("GET", "/openapi.json", undefined, null)).json as { paths: Record<string, Record<string, unknown>> };
		const committed = readFileSync(new URL("../src/generated/api-types.ts", import.meta.url), "utf8");
		expect(renderApiTypes(spec), "run npm run generate:sdk-types and commit the result").toBe(committed);
		const documented = Object.entries(spec.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
		expect([...Object.values(OPERATIONS)].sort()).toEqual(documented.sort());
	});

	it("runs a factor's life through the API, and errors carry the catalog code", async () => {
		const enrolled = await client.enroll("sdk-c", { type: "totp" });
		const confirmed = await client.confirm("sdk-c", enrolled.factor.id, { code: codeFor(enrolled.totp.secret, t.clock()) });
		expect(confirmed.factor.status).toBe("active");
		expect(confirmed.recovery_codes).toHaveLength(10);
		expect((await client.listFactors("sdk-c")).factors).toHaveLength(1);
		nextStep(t.clock);
		const verified = await client.verify("sdk-c", { code: codeFor(enrolled.totp.secret, t.clock()) });
		expect(verified).toMatchObject({ valid: true, method: "totp" });
		const regenerated = await client.regenerateRecoveryCodes("sdk-c", { assertion: verified.assertion });
		expect(regenerated.recovery_codes).toHaveLength(10);

		const wrong = await client.verify("sdk-c", { code: "000000" }).catch((e: unknown) => e);
		expect(wrong).toBeInstanceOf(TwofoldError);
		expect(wrong).toMatchObject({ status: 422, code: "invalid_code", details: [] });
		// A malformed request names each field (issue 13).
		const malformed = await client.enroll("sdk-c", { type: "sms" } as never).catch((e: unknown) => e);
		expect(malformed).toMatchObject({ status: 400, code: "invalid_request", details: [{ in: "body", pointer: "/type", message: "must be one of: totp, hotp, webauthn" }] });
		const spent = await client.redeemAssertion(verified.assertion).catch((e: unknown) => e);
		expect(spent).toMatchObject({ code: "assertion_redeemed" }); // the regeneration spent it

		expect((await client.renameFactor("sdk-c", enrolled.factor.id, "Work phone")).factor.label).toBe("Work phone");
		await client.deleteFactor("sdk-c", enrolled.factor.id, { reason: "sdk test" });
		expect((await client.getUser("sdk-c")).factors).toHaveLength(0);
		expect((await client.listEvents({ user_id: "sdk-c", type: "factor.deleted" })).events).toHaveLength(1);
		await expect(client.getUser("..")).rejects.toThrow(TypeError);
		expect((await client.jwks()).keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
	});

	it("uploads and removes the tenant's logo as raw bytes", async () => {
		await client.setTenantLogo(png1x1(), "image/png");
		expect((await client.getTenant()).settings.branding.has_logo).toBe(true);
		const svg = await client.setTenantLogo(new TextEncoder().encode("<svg/>"), "image/svg+xml" as never).catch((e: unknown) => e);
		expect(svg).toMatchObject({ status: 415, code: "unsupported_logo_type" });
		await client.deleteTenantLogo();
		expect((await client.getTenant()).settings.branding.has_logo).toBe(false);
	});

	it("registers a prompt client, shows its secret once, sets its logo, changes and removes it", async () => {
		const created = await client.createClient({ name: "Shop", redirect_uris: ["https://shop.example/cb"] });
		const id = created.client.client_id;
		expect(created.client_secret).toEqual(expect.any(String));
		expect(JSON.stringify(await client.listClients())).not.toContain(created.client_secret!);
		await client.setClientLogo(id, png1x1(), "image/png");
		expect((await client.updateClient(id, { name: "Shop 2" })).name).toBe("Shop 2");
		expect((await client.getClient(id)).name).toBe("Shop 2");
		await client.deleteClientLogo(id);
		await client.deleteClient(id);
		expect(await client.getClient(id).catch((e: unknown) => e)).toMatchObject({ status: 404, code: "client_not_found" });
	});
});
