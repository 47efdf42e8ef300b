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
				imports: { weak_secrets: "accept" },
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

	it("branding and prompt settings: patched within bounds, unsafe values refused (issue 15)", async () => {
		const patched = await t.call("PATCH", "/v1/tenant", {
			branding: { display_name: "Acme Ünïcode GmbH", primary_color: "#1D4ed8", default_locale: "de" },
			prompt: { no_factor_policy: "deny", support_text: "Call us:\n+49 30 1234", support_url: "https://help.example.com/2fa", recovery_requests: false },
		});
		expect(patched.status, patched.body).toBe(200);
		expect(patched.json.settings.branding).toEqual({ display_name: "Acme Ünïcode GmbH", primary_color: "#1D4ed8", has_logo: false, default_locale: "de" });
		expect(patched.json.settings.prompt).toEqual({ no_factor_policy: "deny", support_text: "Call us:\n+49 30 1234", support_url: "https://help.example.com/2fa", recovery_requests: false });
		// A partial patch keeps the rest; null clears a nullable field.
		const cleared = await t.call("PATCH", "/v1/tenant", { branding: { display_name: null }, prompt: { support_url: null } });
		expect(cleared.json.settings.branding).toMatchObject({ display_name: null, primary_color: "#1D4ed8", default_locale: "de" });
		expect(cleared.json.settings.prompt).toMatchObject({ support_url: null, no_factor_policy: "deny", recovery_requests: false });
		// Loopback http is allowed for support_url (a local support desk, the tests).
		expect((await t.call("PATCH", "/v1/tenant", { prompt: { support_url: "http://localhost:8080/help" } })).status).toBe(200);

		const unsafe: Record<string, unknown>[] = [
			{ branding: { display_name: "a".repeat(65) } },
			{ branding: { display_name: "" } },
			{ branding: { display_name: "Evil\u0000Name" } },
			{ branding: { display_name: "line\nbreak" } },
			// A right-to-left override would make the name read differently from what it is.
			{ branding: { display_name: "moc.\u202Eevil" } },
			{ branding: { display_name: "C1\u0085control" } },
			{ branding: { primary_color: "red" } },
			{ branding: { primary_color: "#fff" } },
			{ branding: { primary_color: "#12345g" } },
			{ branding: { primary_color: "#123456; background:url(x)" } },
			{ branding: { default_locale: "fr" } },
			{ branding: { has_logo: true } },
			{ prompt: { no_factor_policy: "skip" } },
			{ prompt: { support_text: "x".repeat(501) } },
			{ prompt: { support_text: "bell\u0007" } },
			{ prompt: { support_url: "javascript:alert(1)" } },
			{ prompt: { support_url: "http://help.example.com" } },
			{ prompt: { support_url: "https://user:pass@help.example.com" } },
			{ prompt: { support_url: "data:text/html,<script>alert(1)</script>" } },
			{ prompt: { support_url: "not a url" } },
			{ prompt: { recovery_requests: "yes" } },
			{ prompt: { other: 1 } },
		];
		for (const body of unsafe) {
			const res = await t.call("PATCH", "/v1/tenant", body);
			expect(res.status, JSON.stringify(body)).toBe(400);
			expect(res.json.error.code, JSON.stringify(body)).toBe("invalid_request");
		}
		const url = await t.call("PATCH", "/v1/tenant", { prompt: { support_url: "ftp://help.example.com" } });
		expect(url.json.error.details[0]).toMatchObject({ pointer: "/prompt/support_url" });
		// Nothing of the refused patches was kept.
		expect((await t.call("GET", "/v1/tenant")).json.settings.prompt.support_url).toBe("http://localhost:8080/help");
	});

	it("an rp_id must be a domain name: an IP address or an over-long label is refused", async () => {
		for (const rp_id of ["127.0.0.1", "192.0.2.10", `${"a".repeat(64)}.example.com`]) {
			const res = await t.call("PATCH", "/v1/tenant", { webauthn: { rp_id, rp_name: "X", origins: [`https://${rp_id}`] } });
			expect(res.status, rp_id).toBe(400);
			expect(res.json.error.code, rp_id).toBe("invalid_request");
			expect(res.json.error.details[0].pointer, rp_id).toBe("/webauthn/rp_id");
		}
	});
});

describe("prompt_passkeys in GET /v1/tenant follows TWOFOLD_PUBLIC_URL (issue 15)", () => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ env: { TWOFOLD_PUBLIC_URL: "https://2fa.example.com" } });
	});
	afterAll(() => t.close());

	it("is usable once rp_id covers the prompt's host and its origin is listed, and says why not before", async () => {
		expect((await t.call("GET", "/v1/tenant")).json.prompt_passkeys).toEqual({ usable: false, reason: "webauthn.rp_id is not set" });
		const appOnly = await t.call("PATCH", "/v1/tenant", { webauthn: { rp_id: "example.com", rp_name: "Example", origins: ["https://app.example.com"] } });
		expect(appOnly.json.prompt_passkeys).toEqual({ usable: false, reason: "the prompt's origin https://2fa.example.com is not among webauthn.origins" });
		const other = await t.call("PATCH", "/v1/tenant", { webauthn: { rp_id: "app.example.com", origins: ["https://app.example.com"] } });
		expect(other.json.prompt_passkeys.usable).toBe(false);
		expect(other.json.prompt_passkeys.reason).toMatch(/nor a registrable suffix/);
		const both = await t.call("PATCH", "/v1/tenant", { webauthn: { rp_id: "example.com", origins: ["https://app.example.com", "https://2fa.example.com"] } });
		expect(both.json.prompt_passkeys).toEqual({ usable: true });
		expect((await t.call("GET", "/v1/tenant")).json.prompt_passkeys).toEqual({ usable: true });
	});
});
