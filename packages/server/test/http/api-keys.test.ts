import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, DIALECTS, type TestApp } from "../helpers.js";

/**
 * API keys as `twofold keys create|list|revoke` use them (the service the CLI calls, R-LC-3, issue 13) and the
 * Authorization header the /v1 scope accepts (RFC 6750 §2.1). The last-use record is in api-key-last-used.test.ts.
 */
describe.each(DIALECTS)("API keys (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	it("create shows the token once; list shows each key's id, scope and times, oldest first, never its secret or hash", async () => {
		const { tenant } = await t.app.services.tenants.create("keys-list");
		const [first] = (await t.app.services.apiKeys.list(tenant.id))!;
		const createdAt = t.clock().toISOString();
		const admin = await t.app.services.apiKeys.create(tenant.id, "admin");
		t.clock.advance(1000);
		const plain = await t.app.services.apiKeys.create(tenant.id, "default");
		expect(admin).toEqual({ id: expect.stringMatching(/^key_/), token: expect.stringMatching(/^tfk_/), scope: "admin" });
		expect(plain.scope).toBe("default");

		const listed = (await t.app.services.apiKeys.list(tenant.id))!;
		expect(listed.map((key) => key.key_id)).toEqual([first!.key_id, admin.id, plain.id]);
		expect(listed[1]).toEqual({ key_id: admin.id, scope: "admin", created_at: createdAt, last_used_at: null, revoked_at: null });
		expect(listed[2]).toEqual({ key_id: plain.id, scope: "default", created_at: new Date(t.clock().getTime()).toISOString(), last_used_at: null, revoked_at: null });
		for (const key of listed) expect(Object.keys(key).sort()).toEqual(["created_at", "key_id", "last_used_at", "revoked_at", "scope"]);
		const text = JSON.stringify(listed);
		for (const token of [admin.token, plain.token]) expect(text).not.toContain(token.slice(token.lastIndexOf("_") + 1));

		// Another tenant's keys are not listed; a tenant that does not exist has no list at all.
		expect((await t.app.services.apiKeys.list(t.tenantId))!.map((key) => key.key_id)).not.toContain(admin.id);
		expect(await t.app.services.apiKeys.list("ten_00000000000000000000000000")).toBeUndefined();
	});

	it("revoke answers true once, false for a revoked or unknown key; list shows when; both changes are events of the key's tenant", async () => {
		const key = await t.app.services.apiKeys.create(t.tenantId, "default");
		t.clock.advance(5000);
		const revokedAt = t.clock().toISOString();
		expect(await t.app.services.apiKeys.revoke(key.id)).toBe(true);
		expect(await t.app.services.apiKeys.revoke(key.id)).toBe(false);
		expect(await t.app.services.apiKeys.revoke("key_00000000000000000000000000")).toBe(false);
		expect((await t.app.services.apiKeys.list(t.tenantId))!.find((listed) => listed.key_id === key.id)!.revoked_at).toBe(revokedAt);

		const created = (await t.call("GET", "/v1/events?type=api_key.created")).json.events.filter((event: any) => event.data.key_id === key.id);
		expect(created.map((event: any) => event.data)).toEqual([{ key_id: key.id, scope: "default" }]);
		const revoked = (await t.call("GET", "/v1/events?type=api_key.revoked")).json.events;
		// Once: the second revoke and the unknown key changed nothing, so they recorded nothing.
		expect(revoked.map((event: any) => event.data)).toEqual([{ key_id: key.id }]);
	});

	it("accepts exactly `Bearer <token>`: no other scheme spelling, space or character around the token (RFC 6750 §2.1)", async () => {
		const key = await t.app.services.apiKeys.create(t.tenantId, "default");
		const get = (authorization: string) => t.http.inject({ method: "GET", url: "/v1/tenant", headers: { authorization } });
		expect((await get(`Bearer ${key.token}`)).statusCode).toBe(200);
		for (const authorization of [`Bearer  ${key.token}`, `Bearer ${key.token} `, `Bearer ${key.token} x`, ` Bearer ${key.token}`, `XBearer ${key.token}`, `Bearer ${key.token}\u00e9`, `Bearer`, `Bearer `]) {
			const res = await get(authorization);
			expect(res.statusCode, JSON.stringify(authorization)).toBe(401);
			expect(JSON.parse(res.body).error.code).toBe("unauthorized");
		}
	});
});
