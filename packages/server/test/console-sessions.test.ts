import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_TENANT_ID } from "../src/core/system-tenant.js";
import { parseTenantSettings } from "../src/contract/tenant-settings.js";
import { CONSOLE_CLIENT_ID } from "../src/services/console-client.js";
import { buildTestApp, DIALECTS, expectNotDecodable, type TestApp } from "./helpers.js";

/**
 * Issue 16, the console's groundwork: its OIDC client of the system tenant's prompt, and its sessions (idle 15 min,
 * 8 h at most, a step-up fresh for 5 min, ended by sign-out, by disabling the operator or by a new link).
 */
describe.each(DIALECTS)("console client and sessions (%s)", (dialect) => {
	let t: TestApp;
	const services = () => t.app.services;
	const MINUTE = 60_000;

	beforeAll(async () => {
		t = await buildTestApp({ dialect, env: { TWOFOLD_PUBLIC_URL: "https://2fa.example" } });
	});
	afterAll(async () => {
		await t?.close();
	});

	it("has no client before the first operator; then one, its secret sealed, its redirect URI and relying party on the public URL", async () => {
		expect(await services().console.client()).toBeUndefined();
		await services().operators.create({ name: "alice", role: "admin", tenants: "all" });
		const client = await services().console.client();
		expect(client).toMatchObject({ tenantId: SYSTEM_TENANT_ID, clientId: CONSOLE_CLIENT_ID, redirectUri: "https://2fa.example/console/callback", passkeysUsable: true });
		expect(client!.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
		// The same client on every call: the secret is read back from its envelope, never stored in the clear.
		expect((await services().console.client())!.secret).toBe(client!.secret);
		const row = await t.app.store.clients.find(SYSTEM_TENANT_ID, CONSOLE_CLIENT_ID);
		expectNotDecodable(row!.secret_envelope!, [client!.secret]);
		const tenant = await t.app.store.tenants.find(SYSTEM_TENANT_ID);
		const settings = parseTenantSettings(tenant!.settings, tenant!.name);
		expect(settings.webauthn).toMatchObject({ rp_id: "2fa.example", origins: ["https://2fa.example"], user_verification: "required" });
		// A name typed on the sign-in page whose operator has not enrolled must meet "deny", never an enrollment.
		expect(settings.prompt).toMatchObject({ no_factor_policy: "deny", recovery_requests: false });
	});

	it("a session lives while used, ends after 15 idle minutes, after 8 hours whatever happens, and at sign-out", async () => {
		const started = await services().console.startSession("alice");
		expect(started!.session).toMatchObject({ operator: { name: "alice", role: "admin" }, fresh: true });
		expect(started!.cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
		// Only a hash of the cookie is kept: the row is found by SHA-256 of it, and not by the cookie itself.
		const now = t.clock().getTime();
		const idHash = createHash("sha256").update(`twofold/console-session/${started!.cookie}`).digest("base64url");
		const row = await t.app.store.consoleSessions.findLive(idHash, now, 0);
		expect(row).toMatchObject({ expires_at: now + 8 * 60 * MINUTE });
		expect(JSON.stringify(row)).not.toContain(started!.cookie);
		expect(await t.app.store.consoleSessions.findLive(started!.cookie, now, 0)).toBeUndefined();

		t.clock.advance(14 * MINUTE);
		expect(await services().console.readSession(started!.cookie)).toMatchObject({ operator: { name: "alice" }, fresh: false });
		t.clock.advance(14 * MINUTE);
		expect(await services().console.readSession(started!.cookie)).toBeDefined();
		t.clock.advance(15 * MINUTE + 1);
		expect(await services().console.readSession(started!.cookie)).toBeUndefined();

		// Used every 10 minutes, it still ends 8 hours after sign-in.
		const busy = await services().console.startSession("alice");
		for (let minutes = 10; minutes < 8 * 60; minutes += 10) {
			t.clock.advance(10 * MINUTE);
			expect(await services().console.readSession(busy!.cookie), `${minutes} min`).toBeDefined();
		}
		t.clock.advance(10 * MINUTE);
		expect(await services().console.readSession(busy!.cookie)).toBeUndefined();

		const signedOut = await services().console.startSession("alice");
		await services().console.endSession(signedOut!.cookie);
		expect(await services().console.readSession(signedOut!.cookie)).toBeUndefined();
	});

	it("a step-up is fresh for 5 minutes; a cookie of another shape, or none, is no session", async () => {
		const session = await services().console.startSession("alice");
		t.clock.advance(5 * MINUTE);
		expect((await services().console.readSession(session!.cookie))!.fresh).toBe(false);
		await services().console.recordStepUp(session!.cookie);
		expect((await services().console.readSession(session!.cookie))!.fresh).toBe(true);
		t.clock.advance(5 * MINUTE);
		expect((await services().console.readSession(session!.cookie))!.fresh).toBe(false);
		for (const cookie of [undefined, "", "x", `${session!.cookie}x`, session!.cookie.slice(1), "' or 1=1 --"]) expect(await services().console.readSession(cookie)).toBeUndefined();
	});

	it("disabling an operator, or giving them a new link, ends their sessions at once; no session starts for them or a stranger", async () => {
		await services().operators.create({ name: "bob", role: "support", tenants: [t.tenantId] });
		const first = await services().console.startSession("bob");
		await services().operators.reissue("bob");
		expect(await services().console.readSession(first!.cookie)).toBeUndefined();
		const second = await services().console.startSession("bob");
		expect(await services().console.readSession(second!.cookie)).toBeDefined();
		await services().operators.disable("bob");
		expect(await services().console.readSession(second!.cookie)).toBeUndefined();
		expect(await services().console.startSession("bob")).toBeUndefined();
		expect(await services().console.startSession("nobody")).toBeUndefined();
	});
});
