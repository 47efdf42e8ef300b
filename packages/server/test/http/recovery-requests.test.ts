import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, DIALECTS, enrollActive, nextStep, type TestApp } from "../helpers.js";

/**
 * "Request a reset" on the prompt's lost-access page (issue 15): a user.recovery_requested event (and webhook) for
 * the application's support staff, at most one an hour per user, and nothing else: no factor, code or lock changes.
 */
describe.each(DIALECTS)("recovery requests (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect, env: { TWOFOLD_WEBHOOK_ALLOW_PRIVATE: "true" } });
	});
	afterAll(() => t.close());

	const ctx = async () => (await t.app.services.apiKeys.authenticate(t.adminKey))!;
	const requested = async (userId: string) => (await t.call("GET", `/v1/events?type=user.recovery_requested&user_id=${userId}`)).json.events as { data: Record<string, unknown>; user_id: string }[];

	it("records one event (and a webhook delivery), then at most one per hour; later requests are accepted silently", async () => {
		const webhook = (await t.call("POST", "/v1/webhooks", { url: "http://127.0.0.1:9/hook", events: ["user.recovery_requested"] })).json.webhook;
		const { secret, recoveryCodes } = await enrollActive(t, "lost-1");
		expect(await t.app.services.users.requestRecovery(await ctx(), "lost-1")).toEqual({ recorded: true });
		const events = await requested("lost-1");
		expect(events).toHaveLength(1);
		expect(events[0]!.data).toEqual({ active_factors: 1, recovery_codes_remaining: recoveryCodes.length });
		const deliveries = (await t.call("GET", `/v1/webhooks/${webhook.id}/deliveries`)).json.deliveries as { event_type: string }[];
		expect(deliveries.map((d) => d.event_type)).toEqual(["user.recovery_requested"]);

		// Pressed again, and again, within the hour: accepted, nothing recorded.
		t.clock.advance(60_000);
		expect(await t.app.services.users.requestRecovery(await ctx(), "lost-1")).toEqual({ recorded: false });
		t.clock.advance(58 * 60_000);
		expect(await t.app.services.users.requestRecovery(await ctx(), "lost-1")).toEqual({ recorded: false });
		expect(await requested("lost-1")).toHaveLength(1);
		// An hour after the recorded one, the next is recorded.
		t.clock.advance(60_000);
		expect(await t.app.services.users.requestRecovery(await ctx(), "lost-1")).toEqual({ recorded: true });
		expect(await requested("lost-1")).toHaveLength(2);

		// It changed nothing: the factor still verifies, the recovery codes are all there, no lock.
		const user = await t.call("GET", "/v1/users/lost-1");
		expect(user.json).toMatchObject({ locked: false, recovery_codes_remaining: recoveryCodes.length });
		expect(user.json.factors).toHaveLength(1);
		nextStep(t.clock);
		expect((await t.call("POST", "/v1/users/lost-1/verify", { code: codeFor(secret, t.clock()) })).json.valid).toBe(true);
	});

	it("the hourly limit is per user: another user's request is recorded", async () => {
		await enrollActive(t, "lost-2");
		await enrollActive(t, "lost-3");
		expect((await t.app.services.users.requestRecovery(await ctx(), "lost-2")).recorded).toBe(true);
		expect((await t.app.services.users.requestRecovery(await ctx(), "lost-3")).recorded).toBe(true);
	});

	it("concurrent requests record exactly one event", async () => {
		await enrollActive(t, "lost-4");
		const c = await ctx();
		const results = await Promise.all(Array.from({ length: 8 }, () => t.app.services.users.requestRecovery(c, "lost-4")));
		expect(results.filter((r) => r.recorded)).toHaveLength(1);
		expect(await requested("lost-4")).toHaveLength(1);
	});

	it("an unknown user, or an id with only an attempt record, is user_not_found; nothing is recorded", async () => {
		await expect(t.app.services.users.requestRecovery(await ctx(), "nobody")).rejects.toMatchObject({ code: "user_not_found" });
		expect((await t.call("POST", "/v1/users/attempted-only/verify", { code: "000000" })).status).toBe(422);
		await expect(t.app.services.users.requestRecovery(await ctx(), "attempted-only")).rejects.toMatchObject({ code: "user_not_found" });
		expect(await requested("nobody")).toHaveLength(0);
	});

	it("another tenant's user is not found (V-17)", async () => {
		const other = await t.app.services.tenants.create("other-tenant");
		const otherCtx = (await t.app.services.apiKeys.authenticate(other.apiKey))!;
		await expect(t.app.services.users.requestRecovery(otherCtx, "lost-2")).rejects.toMatchObject({ code: "user_not_found" });
	});

	it("is refused when the tenant turned recovery requests off", async () => {
		await enrollActive(t, "lost-5");
		expect((await t.call("PATCH", "/v1/tenant", { prompt: { recovery_requests: false } })).status).toBe(200);
		await expect(t.app.services.users.requestRecovery(await ctx(), "lost-5")).rejects.toMatchObject({ code: "recovery_requests_disabled" });
		expect(await requested("lost-5")).toHaveLength(0);
		expect((await t.call("PATCH", "/v1/tenant", { prompt: { recovery_requests: true } })).status).toBe(200);
		expect((await t.app.services.users.requestRecovery(await ctx(), "lost-5")).recorded).toBe(true);
	});
});
