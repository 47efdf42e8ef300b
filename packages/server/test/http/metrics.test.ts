import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, enrollActive, nextStep, type TestApp } from "../helpers.js";

/** GET /metrics (issue 6): requests by route and status, latency, verify outcomes, lockouts, outbox lag; no personal data. */
describe("metrics", () => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ env: { TWOFOLD_WEBHOOK_ALLOW_PRIVATE: "true" } });
	});
	afterAll(() => t.close());

	it("counts requests, outcomes and lockouts, reports the outbox backlog, and names no user, tenant or code", async () => {
		expect((await t.call("PATCH", "/v1/tenant", { attempts: { lock_after: 3 } })).status).toBe(200);
		const { secret } = await enrollActive(t, "metrics-user-7f3a");
		nextStep(t.clock);
		const code = codeFor(secret, t.clock());
		expect((await t.call("POST", "/v1/users/metrics-user-7f3a/verify", { code })).status).toBe(200);
		for (let i = 0; i < 3; i++) await t.call("POST", "/v1/users/metrics-user-7f3a/verify", { code: "000000" });
		expect((await t.call("POST", "/v1/users/metrics-user-7f3a/verify", { code: "000000" })).status).toBe(423);
		// A webhook to a closed port: its deliveries stay pending, and the lag grows with the clock.
		await t.call("POST", "/v1/webhooks", { url: "http://127.0.0.1:9/hooks", events: ["user.unlocked"] });
		await t.call("POST", "/v1/users/metrics-user-7f3a/unlock");
		t.clock.advance(30_000);

		const res = await t.call("GET", "/metrics", undefined, null);
		expect(res.status).toBe(200);
		expect(res.headers["content-type"]).toContain("text/plain");
		const text = res.body;
		expect(text).toMatch(/twofold_http_requests_total\{route="\/v1\/users\/:user_id\/verify",method="POST",status="200"\} 1/);
		expect(text).toMatch(/twofold_http_requests_total\{route="\/v1\/users\/:user_id\/verify",method="POST",status="422"\} 3/);
		expect(text).toMatch(/twofold_verifications_total\{outcome="success"\} 1/);
		expect(text).toMatch(/twofold_verifications_total\{outcome="invalid"\} 3/);
		expect(text).toMatch(/twofold_verifications_total\{outcome="locked"\} 1/);
		expect(text).toMatch(/twofold_events_total\{type="user.locked"\} 1/);
		expect(text).toMatch(/twofold_http_request_duration_seconds_bucket\{le="0.1",route="\/v1\/users\/:user_id\/verify",method="POST"\} \d+/);
		expect(text).toMatch(/^twofold_webhook_deliveries_pending 1$/m);
		expect(Number(/^twofold_webhook_outbox_lag_seconds (\S+)$/m.exec(text)![1])).toBeGreaterThanOrEqual(30);
		expect(text).toMatch(/twofold_process_cpu_seconds_total/);
		for (const secretish of ["metrics-user-7f3a", t.tenantId, code, t.adminKey, secret]) expect(text).not.toContain(secretish);
	});
});
