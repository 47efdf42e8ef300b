import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, DIALECTS, enrollActive, type TestApp } from "../helpers.js";

describe.each(DIALECTS)("audit events (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	it("records each change, newest first, with cursor pages and filters (R-ST-5)", async () => {
		await enrollActive(t, "ev");
		await t.call("POST", "/v1/users/ev/verify", { code: "000000" });
		const all = await t.call("GET", "/v1/events?user_id=ev");
		expect(all.json.events.map((e: any) => e.type)).toEqual(["verification.failed", "factor.activated", "factor.created"]);
		const page1 = await t.call("GET", "/v1/events?user_id=ev&limit=2");
		expect(page1.json.events).toHaveLength(2);
		const page2 = await t.call("GET", `/v1/events?user_id=ev&limit=2&cursor=${page1.json.next_cursor}`);
		expect(page2.json.events.map((e: any) => e.type)).toEqual(["factor.created"]);
		expect(page2.json.next_cursor).toBeNull();
		expect((await t.call("GET", "/v1/events?limit=0")).status).toBe(400);
		expect((await t.call("GET", "/v1/events?limit=101")).status).toBe(400);
		expect((await t.call("GET", "/v1/events?cursor=abc")).status).toBe(400);
	});

	it("a rolled-back change leaves no event (R-ST-5, D-4)", async () => {
		const before = (await t.call("GET", "/v1/events?limit=100")).json.events.length;
		await expect(
			t.app.store.transaction(async (tx) => {
				await tx.users.ensure(t.tenantId, "ghost", Date.now());
				await tx.events.append({ id: "evt_ghost", tenant_id: t.tenantId, user_id: "ghost", type: "factor.created", factor_id: null, data: "{}", created_at: 1 });
				throw new Error("boom");
			}),
		).rejects.toThrow("boom");
		expect((await t.call("GET", "/v1/events?limit=100")).json.events.length).toBe(before);
		expect(await t.app.store.users.find(t.tenantId, "ghost")).toBeUndefined();
	});
});
