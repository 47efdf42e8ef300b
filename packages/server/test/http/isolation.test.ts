import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, DIALECTS, enrollActive, nextStep, type TestApp } from "../helpers.js";

describe.each(DIALECTS)("tenant isolation and IDOR (%s, V-17)", (dialect) => {
	let t: TestApp;
	let otherKey: string;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
		otherKey = (await t.app.services.tenants.create("other")).apiKey;
	});
	afterAll(() => t.close());

	it("another tenant's user and factor ids are 404, and its codes never verify", async () => {
		const { factorId, secret, recoveryCodes } = await enrollActive(t, "shared-name");
		nextStep(t.clock);
		const code = codeFor(secret, t.clock());
		expect((await t.call("GET", "/v1/users/shared-name", undefined, otherKey)).json.error.code).toBe("user_not_found");
		expect((await t.call("GET", "/v1/users/shared-name/factors", undefined, otherKey)).json.factors).toEqual([]);
		expect((await t.call("POST", `/v1/users/shared-name/factors/${factorId}/confirm`, { code }, otherKey)).status).toBe(404);
		expect((await t.call("DELETE", `/v1/users/shared-name/factors/${factorId}`, { reason: "x" }, otherKey)).status).toBe(404);
		expect((await t.call("POST", "/v1/users/shared-name/verify", { code }, otherKey)).status).toBe(422);
		expect((await t.call("POST", "/v1/users/shared-name/verify", { code: recoveryCodes[0] }, otherKey)).status).toBe(422);
		expect((await t.call("POST", "/v1/users/shared-name/unlock", undefined, otherKey)).status).toBe(404);
		expect((await t.call("DELETE", "/v1/users/shared-name", undefined, otherKey)).status).toBe(404);
		const events = await t.call("GET", "/v1/events?user_id=shared-name", undefined, otherKey);
		expect(events.json.events).toEqual([]);
		// Untouched for its own tenant: the code was never consumed above.
		expect((await t.call("POST", "/v1/users/shared-name/verify", { code })).status).toBe(200);
	});

	it("the same user id in two tenants are two users", async () => {
		await enrollActive(t, "twin");
		const enrolled = await t.call("POST", "/v1/users/twin/factors", { type: "totp" }, otherKey);
		expect(enrolled.status).toBe(201);
		expect((await t.call("GET", "/v1/users/twin/factors", undefined, otherKey)).json.factors).toHaveLength(1);
		expect((await t.call("GET", "/v1/users/twin/factors")).json.factors).toHaveLength(1);
	});

	it("user X's valid code submitted as user Y is rejected and counts against Y", async () => {
		const x = await enrollActive(t, "user-x");
		await enrollActive(t, "user-y");
		nextStep(t.clock);
		const code = codeFor(x.secret, t.clock());
		expect((await t.call("POST", "/v1/users/user-y/verify", { code })).status).toBe(422);
		const failed = await t.call("GET", "/v1/events?user_id=user-y&type=verification.failed");
		expect(failed.json.events[0].data.failed_attempts).toBe(1);
		expect((await t.call("POST", "/v1/users/user-x/verify", { code })).status).toBe(200);
	});

	it("a factor id of one user is not found under another user", async () => {
		const x = await enrollActive(t, "owner-x");
		await enrollActive(t, "owner-y");
		expect((await t.call("DELETE", `/v1/users/owner-y/factors/${x.factorId}`, { reason: "x" })).json.error.code).toBe("factor_not_found");
		nextStep(t.clock);
		expect((await t.call("POST", "/v1/users/owner-y/verify", { code: codeFor(x.secret, t.clock()), factor_id: x.factorId })).status).toBe(422);
	});
});
