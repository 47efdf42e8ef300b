import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, DIALECTS, enrollActive, nextStep, type TestApp } from "../helpers.js";

describe.each(DIALECTS)("removing factors (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	it("needs a proof: nothing, or a default key with a reason, is refused (R-LC-4, V-8, V-19)", async () => {
		const { factorId } = await enrollActive(t, "del-proof");
		expect((await t.call("DELETE", `/v1/users/del-proof/factors/${factorId}`, {})).json.error.code).toBe("proof_required");
		expect((await t.call("DELETE", `/v1/users/del-proof/factors/${factorId}`)).status).toBe(400);
		const defaultKey = await t.app.services.apiKeys.create(t.tenantId, "default");
		expect((await t.call("DELETE", `/v1/users/del-proof/factors/${factorId}`, { reason: "lost phone" }, defaultKey.token)).status).toBe(403);
		expect((await t.call("DELETE", `/v1/users/del-proof/factors/${factorId}`, { code: "000000" })).status).toBe(422);
		expect((await t.call("GET", "/v1/users/del-proof/factors")).json.factors).toHaveLength(1);
	});

	it("with a current code: the factor stops working at once; the last one takes the recovery codes with it", async () => {
		const { factorId, secret, recoveryCodes } = await enrollActive(t, "del-code");
		nextStep(t.clock);
		expect((await t.call("DELETE", `/v1/users/del-code/factors/${factorId}`, { code: codeFor(secret, t.clock()) })).status).toBe(204);
		nextStep(t.clock);
		expect((await t.call("POST", "/v1/users/del-code/verify", { code: codeFor(secret, t.clock()) })).status).toBe(422);
		expect((await t.call("POST", "/v1/users/del-code/verify", { code: recoveryCodes[0] })).status).toBe(422);
		expect((await t.call("GET", "/v1/users/del-code")).json).toMatchObject({ factors: [], recovery_codes_remaining: 0 });
		expect((await t.call("DELETE", `/v1/users/del-code/factors/${factorId}`, { reason: "again" })).status).toBe(404);
		// R-LC-2: a tombstone remains, without its secret.
		const row = await t.app.store.factors.find(t.tenantId, "del-code", factorId);
		expect(row).toMatchObject({ status: "deleted", secret_envelope: null });
		expect(row!.deleted_at).not.toBeNull();
		const event = (await t.call("GET", "/v1/events?user_id=del-code&type=factor.deleted")).json.events[0];
		expect(event).toMatchObject({ factor_id: factorId, data: { by: "user", was: "active" } });
	});

	it("by an admin with a reason (audited); a recovery code is also a proof", async () => {
		const one = await enrollActive(t, "del-admin");
		nextStep(t.clock);
		const two = await enrollActive(t, "del-admin", { code: codeFor(one.secret, t.clock()) });
		expect((await t.call("DELETE", `/v1/users/del-admin/factors/${one.factorId}`, { reason: "ticket 42" })).status).toBe(204);
		const event = (await t.call("GET", "/v1/events?user_id=del-admin&type=factor.deleted")).json.events[0];
		expect(event.data).toMatchObject({ by: "admin", reason: "ticket 42" });
		expect(event.data.actor_key_id).toMatch(/^key_/);
		expect((await t.call("DELETE", `/v1/users/del-admin/factors/${two.factorId}`, { code: one.recoveryCodes[0] })).status).toBe(204);
	});

	it("a pending factor may be discarded without a proof", async () => {
		const first = await enrollActive(t, "del-pending");
		nextStep(t.clock);
		const pending = await t.call("POST", "/v1/users/del-pending/factors", { type: "totp", code: codeFor(first.secret, t.clock()) });
		expect((await t.call("DELETE", `/v1/users/del-pending/factors/${pending.json.factor.id}`)).status).toBe(204);
		expect((await t.call("GET", "/v1/users/del-pending")).json.factors).toHaveLength(1);
	});

	it("erasing a user is admin only and removes factors and codes", async () => {
		const { secret } = await enrollActive(t, "erase-me");
		const defaultKey = await t.app.services.apiKeys.create(t.tenantId, "default");
		expect((await t.call("DELETE", "/v1/users/erase-me", undefined, defaultKey.token)).status).toBe(403);
		expect((await t.call("DELETE", "/v1/users/erase-me")).status).toBe(204);
		expect((await t.call("GET", "/v1/users/erase-me")).json.error.code).toBe("user_not_found");
		nextStep(t.clock);
		expect((await t.call("POST", "/v1/users/erase-me/verify", { code: codeFor(secret, t.clock()) })).status).toBe(422);
		expect((await t.call("DELETE", "/v1/users/erase-me")).status).toBe(404);
		expect(await t.app.store.factors.listForUser(t.tenantId, "erase-me")).toHaveLength(0);
		expect((await t.call("GET", "/v1/events?user_id=erase-me&type=user.deleted")).json.events).toHaveLength(1);
	});
});
