import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, DIALECTS, enrollActive, type TestApp } from "../helpers.js";

/** PATCH /v1/users/{id}/factors/{factor_id} {label} (issue 15: the prompt's manage page renames factors). */
describe.each(DIALECTS)("factor rename (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	it("renames an active or a pending factor, audited without the label", async () => {
		const { factorId } = await enrollActive(t, "ren-1", { label: "Phone" });
		const renamed = await t.call("PATCH", `/v1/users/ren-1/factors/${factorId}`, { label: "Old phone – Anna's" });
		expect(renamed.status, renamed.body).toBe(200);
		expect(renamed.json.factor).toMatchObject({ id: factorId, label: "Old phone – Anna's", status: "active", type: "totp" });
		expect((await t.call("GET", "/v1/users/ren-1/factors")).json.factors[0].label).toBe("Old phone – Anna's");
		const events = (await t.call("GET", "/v1/events?type=factor.renamed&user_id=ren-1")).json.events;
		expect(events).toHaveLength(1);
		expect(events[0]).toMatchObject({ factor_id: factorId, data: { type: "totp" } });
		expect(JSON.stringify(events[0])).not.toContain("Anna");

		const pending = (await t.call("POST", "/v1/users/ren-2/factors", { type: "totp" })).json.factor;
		const pendingRenamed = await t.call("PATCH", `/v1/users/ren-2/factors/${pending.id}`, { label: "Tablet" });
		expect(pendingRenamed.json.factor).toMatchObject({ status: "pending", label: "Tablet" });
		// A default key may rename: a label grants nothing.
		const key = await t.app.services.apiKeys.create(t.tenantId, "default");
		expect((await t.call("PATCH", `/v1/users/ren-2/factors/${pending.id}`, { label: "Tablet 2" }, key.token)).status).toBe(200);
	});

	it("applies the label rules of enrollment", async () => {
		const { factorId } = await enrollActive(t, "ren-3", { label: "Keep" });
		for (const body of [{ label: "" }, { label: "a:b" }, { label: "tab\there" }, { label: "x".repeat(129) }, { label: 5 }, {}, { label: "ok", code: "123456" }]) {
			const res = await t.call("PATCH", `/v1/users/ren-3/factors/${factorId}`, body);
			expect(res.status, JSON.stringify(body)).toBe(400);
			expect(res.json.error.code).toBe("invalid_request");
		}
		// 128 code points are allowed, even when they take more UTF-16 units.
		expect((await t.call("PATCH", `/v1/users/ren-3/factors/${factorId}`, { label: "🔑".repeat(128) })).status).toBe(200);
		// The service checks the rules too, for callers that do not pass through the schema (the prompt's pages).
		const ctx = (await t.app.services.apiKeys.authenticate(t.adminKey))!;
		await expect(t.app.services.factors.rename(ctx, "ren-3", factorId, "a:b")).rejects.toMatchObject({ code: "invalid_request" });
		await expect(t.app.services.factors.rename(ctx, "ren-3", factorId, "x".repeat(129))).rejects.toMatchObject({ code: "invalid_request" });
		expect((await t.call("GET", "/v1/users/ren-3/factors")).json.factors[0].label).toBe("🔑".repeat(128));
	});

	it("attack: another user's, another tenant's or a deleted factor is factor_not_found and stays as it was (V-17)", async () => {
		const { factorId } = await enrollActive(t, "victim", { label: "Victim's key" });
		expect((await t.call("PATCH", `/v1/users/intruder/factors/${factorId}`, { label: "pwned" })).json.error.code).toBe("factor_not_found");
		const other = await t.app.services.tenants.create("other");
		const res = await t.call("PATCH", `/v1/users/victim/factors/${factorId}`, { label: "pwned" }, other.apiKey);
		expect(res.json.error.code).toBe("factor_not_found");
		expect((await t.call("GET", "/v1/users/victim/factors")).json.factors[0].label).toBe("Victim's key");
		expect((await t.call("DELETE", `/v1/users/victim/factors/${factorId}`, { reason: "test" })).status).toBe(204);
		expect((await t.call("PATCH", `/v1/users/victim/factors/${factorId}`, { label: "again" })).json.error.code).toBe("factor_not_found");
	});
});
