import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, DIALECTS, type TestApp } from "../helpers.js";

describe.each(DIALECTS)("tenant settings (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	it("reads defaults, patches within bounds, refuses unsafe values", async () => {
		const got = await t.call("GET", "/v1/tenant");
		expect(got.json).toEqual({
			id: t.tenantId,
			name: "acme",
			settings: {
				issuer: "acme",
				totp: { algorithm: "SHA1", digits: 6, period: 30, window: 1 },
				hotp: { look_ahead: 10, resync_window: 100 },
				attempts: { throttle_after: 5, lock_after: 100 },
				pending_factor_ttl_seconds: 900,
				webauthn: { rp_id: null, rp_name: null, origins: [], user_verification: "required", attestation: "none", allow_synced: true },
				assertions: { ttl_seconds: 300 },
				email: { enabled: false, store_address: false, subject: expect.any(String), text: expect.stringContaining("{{code}}"), html: expect.stringContaining("{{code}}") },
				branding: { display_name: null, primary_color: null, has_logo: false, default_locale: "en" },
				prompt: { no_factor_policy: "enroll", support_text: null, support_url: null, recovery_requests: true },
			},
			prompt_passkeys: { usable: false, reason: "webauthn.rp_id is not set" },
		});
		const patched = await t.call("PATCH", "/v1/tenant", { issuer: "Acme Inc", totp: { digits: 8 }, attempts: { lock_after: 20 } });
		expect(patched.status).toBe(200);
		expect(patched.json.settings).toMatchObject({ issuer: "Acme Inc", totp: { digits: 8, window: 1 }, attempts: { lock_after: 20, throttle_after: 5 } });
		for (const unsafe of [{ totp: { window: 2 } }, { attempts: { lock_after: 101 } }, { attempts: { throttle_after: 0 } }, { totp: { period: 300 } }, { issuer: "a:b" }, { other: 1 }, { assertions: { ttl_seconds: 901 } }, { assertions: { ttl_seconds: 29 } }]) {
			const res = await t.call("PATCH", "/v1/tenant", unsafe);
			expect(res.status, JSON.stringify(unsafe)).toBe(400);
		}
		// WebAuthn origins must sit on the rp id (WebAuthn-3 §5.1.3), be origins only, and be https or localhost.
		const rp = { rp_id: "example.com", rp_name: "Example" };
		for (const origins of [["https://evil.test"], ["http://example.com"], ["https://example.com/"], ["https://notexample.com"], ["nonsense"]]) {
			const res = await t.call("PATCH", "/v1/tenant", { webauthn: { ...rp, origins } });
			expect(res.json.error?.code, JSON.stringify(origins)).toBe("invalid_webauthn_settings");
		}
		const webauthn = await t.call("PATCH", "/v1/tenant", { webauthn: { ...rp, origins: ["https://example.com", "https://app.example.com"] } });
		expect(webauthn.json.settings.webauthn).toMatchObject({ rp_id: "example.com", user_verification: "required", attestation: "none" });
		const enrolled = await t.call("POST", "/v1/users/u/factors", { type: "totp" });
		expect(enrolled.json.totp.uri).toContain("otpauth://totp/Acme%20Inc:u?");
		expect(enrolled.json.totp.uri).toContain("digits=8");
	});

	it("PATCH needs the admin scope and is audited", async () => {
		const key = await t.app.services.apiKeys.create(t.tenantId, "default");
		expect((await t.call("PATCH", "/v1/tenant", { issuer: "x" }, key.token)).json.error.code).toBe("forbidden");
		expect((await t.call("GET", "/v1/tenant", undefined, key.token)).status).toBe(200);
		const events = await t.call("GET", "/v1/events?type=tenant.updated");
		expect(events.json.events.length).toBeGreaterThan(0);
	});
});
