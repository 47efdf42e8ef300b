import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { buildTestApp, codeFor, enrollActive, nextStep, type TestApp } from "../helpers.js";

/**
 * Enrollment is limited per tenant by default (issue 12 finding 8, V-18 cost
 * abuse): each enroll renders a QR code, and one tenant enrolling as fast as it
 * could slowed every other tenant's verifies. The limit counts one tenant's
 * enrollments only; other tenants and the tenant's own verifies are untouched.
 */
describe("enrollment rate limit per tenant (V-18)", () => {
	let t: TestApp;
	afterEach(() => t?.close());

	it("is on by default: 300 enrollments a minute per tenant", () => {
		expect(loadConfig({}, "/srv").enrollPerTenantPerMinute).toBe(300);
		expect(loadConfig({ TWOFOLD_RATE_LIMIT_ENROLL: "0" }, "/srv").enrollPerTenantPerMinute).toBe(0);
		expect(() => loadConfig({ TWOFOLD_RATE_LIMIT_ENROLL: "-1" }, "/srv")).toThrow("TWOFOLD_RATE_LIMIT_ENROLL");
	});

	it("a tenant enrolling past its limit gets 429 with Retry-After; another tenant and the tenant's verifies are not limited", async () => {
		t = await buildTestApp({ env: { TWOFOLD_RATE_LIMIT_ENROLL: "4" } });
		t.clock.set(Math.ceil(t.clock().getTime() / 60_000) * 60_000 + 10_000);
		const { secret } = await enrollActive(t, "enroll-user-0");
		const enroll = (tenantKey: string, i: number) => t.call("POST", `/v1/users/enroll-user-${i}/factors`, { type: "totp" }, tenantKey);
		for (let i = 1; i < 4; i++) expect((await enroll(t.adminKey, i)).status).toBe(201);
		// WebAuthn enrollments and malformed ones count too: the limit is on the route, before the body.
		for (const body of [{ type: "totp" }, { type: "webauthn" }, { type: "nonsense" }]) {
			const limited = await t.call("POST", "/v1/users/enroll-user-9/factors", body);
			expect(limited.status).toBe(429);
			expect(limited.json.error.code).toBe("rate_limited");
			expect(limited.headers["retry-after"]).toBe("50");
		}
		// Another tenant has its own count.
		const other = await t.app.services.tenants.create("other");
		expect((await enroll(other.apiKey, 1)).status).toBe(201);
		// The limited tenant still verifies, lists and confirms.
		nextStep(t.clock);
		expect((await t.call("POST", "/v1/users/enroll-user-0/verify", { code: codeFor(secret, t.clock()) })).status).toBe(200);
		expect((await t.call("GET", "/v1/users/enroll-user-1/factors")).status).toBe(200);
		// The next minute it may enroll again.
		t.clock.set(Math.ceil(t.clock().getTime() / 60_000) * 60_000 + 1000);
		expect((await enroll(t.adminKey, 10)).status).toBe(201);
	});
});
