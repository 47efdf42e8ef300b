import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleDriver, listenForConsole } from "./console-browser.js";
import { buildTestApp, DIALECTS, type TestApp } from "./helpers.js";
import { type Browser, csrfOf } from "./prompt-browser.js";

/**
 * Issue 16: API keys in the console. An admin creates one (shown once, in that answer only) and revokes one after a
 * step-up; the key works, then is refused at once; the audit names the operator; support and viewers only read; a key
 * of another tenant edited into the URL is not found and keeps working.
 */
describe.each(DIALECTS)("console API keys (%s)", (dialect) => {
	let t: TestApp;
	let d: ConsoleDriver;
	let other: { tenantId: string; apiKey: string; keyId: string };
	let admin: Browser;
	let support: Browser;
	const keysPath = () => `/console/t/${t.tenantId}/keys`;

	beforeAll(async () => {
		t = await buildTestApp({ dialect });
		d = await listenForConsole(t);
		const b = await t.app.services.tenants.create("bank-b");
		other = { tenantId: b.tenant.id, apiKey: b.apiKey, keyId: b.keyId };
		admin = await d.operator(() => t.app.services.operators.create({ name: "ada", role: "admin", tenants: [t.tenantId] }), "ada");
		support = await d.operator(() => t.app.services.operators.create({ name: "sue", role: "support", tenants: [t.tenantId] }), "sue");
	});
	afterAll(() => t?.close());

	it("an admin creates a key, shown once, that works; then revokes it and it is refused at once; both audited with the operator", async () => {
		const page = await (await admin.fetch(keysPath())).text();
		const created = await admin.post(`${keysPath()}/create`, { csrf: csrfOf(page), scope: "default" });
		expect(created.status).toBe(200);
		expect(created.headers.get("cache-control")).toBe("no-store");
		const token = /id="new-key">([^<]+)</.exec(await created.text())![1]!;
		expect(token).toMatch(/^tfk_/);
		expect((await t.call("POST", "/v1/users/someone/verify", { code: "123456" }, token)).status).not.toBe(401);
		const listed = await (await admin.fetch(keysPath())).text();
		expect(listed).not.toContain(token);
		const keyId = `key_${token.split("_")[1]}`;
		expect(listed).toContain(keyId);

		const revoked = await admin.post(`${keysPath()}/${keyId}/revoke`, { csrf: csrfOf(listed) });
		expect(revoked.headers.get("location")).toBe(`${keysPath()}?done=revoked`);
		expect((await t.call("POST", "/v1/users/someone/verify", { code: "123456" }, token)).status).toBe(401);
		const events = (await t.call("GET", "/v1/events?limit=10")).json.events as { type: string; data: Record<string, unknown> }[];
		expect(events.find((event) => event.type === "api_key.created")!.data).toMatchObject({ key_id: keyId, scope: "default", actor: { type: "operator", name: "ada" } });
		expect(events.find((event) => event.type === "api_key.revoked")!.data).toMatchObject({ key_id: keyId, actor: { type: "operator", name: "ada" } });
		expect(JSON.stringify(events)).not.toContain(token);
	});

	it("an admin changes the attempt policy and the prompt's support text within the API's bounds; out of bounds is refused and nothing changes", async () => {
		const settingsPath = `/console/t/${t.tenantId}/settings`;
		const page = await (await admin.fetch(settingsPath)).text();
		const fields = { csrf: csrfOf(page), throttle_after: "3", lock_after: "5", totp_window: "1", no_factor_policy: "deny", support_text: "Call 0800 123", support_url: "https://help.example/2fa", display_name: "", primary_color: "#0b7285" };
		const refused = await admin.post(settingsPath, { ...fields, lock_after: "500", totp_window: "3" });
		expect(refused.status).toBe(400);
		const body = await refused.text();
		expect(body).toContain('id="lock_after-error"');
		expect(body).toContain('id="totp_window-error"');
		expect((await t.call("GET", "/v1/tenant")).json.settings.attempts.lock_after).toBe(100);
		const saved = await admin.post(settingsPath, fields);
		expect(saved.headers.get("location")).toBe(`${settingsPath}?done=saved`);
		const { settings } = (await t.call("GET", "/v1/tenant")).json;
		expect(settings).toMatchObject({ attempts: { throttle_after: 3, lock_after: 5 }, prompt: { no_factor_policy: "deny", support_text: "Call 0800 123", support_url: "https://help.example/2fa" }, branding: { display_name: null, primary_color: "#0b7285" } });
		const [event] = (await t.call("GET", "/v1/events?type=tenant.updated")).json.events;
		expect(event.data.actor).toMatchObject({ type: "operator", name: "ada" });
		// Support reads the settings but cannot change them.
		const supportPage = await (await support.fetch(settingsPath)).text();
		expect(supportPage).not.toContain('id="settings-form"');
		expect((await support.post(settingsPath, { ...fields, csrf: csrfOf(supportPage), lock_after: "100" })).status).toBe(403);
		expect((await t.call("GET", "/v1/tenant")).json.settings.attempts.lock_after).toBe(5);
	});

	it("attack: support cannot create or revoke keys (403); another tenant's key id in the URL is not found and keeps working", async () => {
		const page = await (await support.fetch(keysPath())).text();
		expect(page).not.toContain('id="create-key-form"');
		expect(page).not.toContain("/revoke");
		expect((await support.post(`${keysPath()}/create`, { csrf: csrfOf(page), scope: "admin" })).status).toBe(403);
		expect((await support.post(`${keysPath()}/${t.adminKey.split("_").slice(0, 2).join("_").replace("tfk", "key")}/revoke`, { csrf: csrfOf(page) })).status).toBe(403);
		const adminPage = await (await admin.fetch(keysPath())).text();
		expect((await admin.post(`${keysPath()}/${other.keyId}/revoke`, { csrf: csrfOf(adminPage) })).status).toBe(404);
		expect((await t.call("GET", "/v1/tenant", undefined, other.apiKey)).status).toBe(200);
		expect((await admin.fetch(`/console/t/${other.tenantId}/keys`)).status).toBe(404);
	});
});
