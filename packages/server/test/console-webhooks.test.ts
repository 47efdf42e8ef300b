import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpSender } from "../src/webhook-delivery/http-sender.js";
import { deliverDue } from "../src/services/webhook-delivery.js";
import { type ConsoleDriver, listenForConsole } from "./console-browser.js";
import { buildTestApp, DIALECTS, enrollActive, type TestApp } from "./helpers.js";
import { type Browser, csrfOf } from "./prompt-browser.js";

/**
 * Issue 16: the console's webhook pages. Support sees an endpoint's deliveries with their status codes and attempts
 * and retries a failed one; an admin disables, enables and rotates the secret (shown once) after a step-up; a viewer
 * reads only; another tenant's endpoint is not found; every change is audited with the operator.
 */
describe.each(DIALECTS)("console webhooks (%s)", (dialect) => {
	let t: TestApp;
	let d: ConsoleDriver;
	let receiver: Server;
	let receiverURL = "";
	let status = 503;
	const received: string[] = [];
	let webhookId = "";
	let otherWebhook = "";
	let support: Browser;
	let admin: Browser;
	let viewer: Browser;
	const send = httpSender(true);
	const drain = async () => {
		while ((await deliverDue(t.app.services.deps, send)) > 0);
	};
	const page = (id = webhookId) => `/console/t/${t.tenantId}/webhooks/${id}`;

	beforeAll(async () => {
		t = await buildTestApp({ dialect, env: { TWOFOLD_WEBHOOK_ALLOW_PRIVATE: "true" } });
		d = await listenForConsole(t);
		receiver = createServer((request, response) => {
			let body = "";
			request.on("data", (chunk) => (body += chunk));
			request.on("end", () => {
				received.push(body);
				response.writeHead(status).end();
			});
		});
		await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
		receiverURL = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
		const created = await t.call("POST", "/v1/webhooks", { url: receiverURL, events: ["*"] });
		expect(created.status, created.body).toBe(201);
		webhookId = created.json.webhook.id;
		const b = await t.app.services.tenants.create("bank-b");
		otherWebhook = (await t.call("POST", "/v1/webhooks", { url: receiverURL, events: ["*"] }, b.apiKey)).json.webhook.id;

		await enrollActive(t, "someone");
		await drain();
		support = await d.operator(() => t.app.services.operators.create({ name: "sue", role: "support", tenants: [t.tenantId] }), "sue");
		admin = await d.operator(() => t.app.services.operators.create({ name: "ada", role: "admin", tenants: "all" }), "ada");
		viewer = await d.operator(() => t.app.services.operators.create({ name: "vic", role: "viewer", tenants: [t.tenantId] }), "vic");
	});
	afterAll(async () => {
		await t?.close();
		await new Promise((resolve) => receiver?.close(resolve));
	});

	it("shows the endpoint and its failing delivery (status code, attempts); support retries it and it is delivered", async () => {
		const list = await (await support.fetch(`/console/t/${t.tenantId}/webhooks`)).text();
		expect(list).toContain(receiverURL);
		const html = await (await support.fetch(page())).text();
		expect(html).toContain("503 HTTP 503");
		expect(html).not.toContain('id="rotate-form"');
		// The oldest first: deliveries to one endpoint keep their order per user, so the later ones wait behind it.
		const retry = [...html.matchAll(/action="([^"]+\/retry)"/g)].at(-1)![1]!;
		status = 204;
		const before = received.length;
		const retried = await support.post(retry, { csrf: csrfOf(html) });
		expect(retried.headers.get("location")).toBe(`${page()}?done=retried`);
		await drain();
		expect(received.length).toBeGreaterThan(before);
		expect(await (await support.fetch(page())).text()).toContain("delivered");
	});

	it("an admin disables and enables the endpoint and rotates its secret, shown once; each audited with the operator", async () => {
		const html = await (await admin.fetch(page())).text();
		const disabled = await admin.post(`${page()}/disable`, { csrf: csrfOf(html) });
		expect(disabled.headers.get("location")).toBe(`${page()}?done=disabled`);
		expect((await t.call("GET", "/v1/webhooks")).json.webhooks[0].enabled).toBe(false);
		expect((await admin.post(`${page()}/enable`, { csrf: csrfOf(html) })).headers.get("location")).toBe(`${page()}?done=enabled`);
		expect((await t.call("GET", "/v1/webhooks")).json.webhooks[0].enabled).toBe(true);

		const rotated = await admin.post(`${page()}/rotate`, { csrf: csrfOf(html) });
		expect(rotated.status).toBe(200);
		expect(rotated.headers.get("cache-control")).toBe("no-store");
		const secret = /id="new-secret">([^<]+)</.exec(await rotated.text())![1]!;
		expect(secret).toMatch(/^whsec_/);
		// Shown once: the endpoint's page does not show it again.
		expect(await (await admin.fetch(page())).text()).not.toContain(secret);
		const events = (await t.call("GET", "/v1/events?type=webhook.secret_rotated")).json.events;
		expect(events[0].data).toMatchObject({ webhook_id: webhookId, actor: { type: "operator", name: "ada" } });
		expect(JSON.stringify(events)).not.toContain(secret);
	});

	it("attack: support and viewers cannot change an endpoint, a viewer cannot retry, and another tenant's endpoint is not found", async () => {
		const html = await (await viewer.fetch(page())).text();
		expect(html).not.toContain("/retry");
		for (const [browser, action, expected] of [
			[viewer, "/disable", 403],
			[viewer, "/rotate", 403],
			[support, "/disable", 403],
			[support, "/rotate", 403],
		] as const) {
			const own = await (await browser.fetch(page())).text();
			expect((await browser.post(`${page()}${action}`, { csrf: csrfOf(own) })).status).toBe(expected);
		}
		expect((await t.call("GET", "/v1/webhooks")).json.webhooks[0].enabled).toBe(true);
		const own = await (await support.fetch(page())).text();
		expect((await support.fetch(page(otherWebhook))).status).toBe(404);
		expect((await support.post(`${page(otherWebhook)}/deliveries/evt_x/retry`, { csrf: csrfOf(own) })).status).toBe(404);
		// An admin of every tenant reaching B's endpoint through A's URL: not found either.
		const adminPage = await (await admin.fetch(page())).text();
		expect((await admin.post(`${page(otherWebhook)}/disable`, { csrf: csrfOf(adminPage) })).status).toBe(404);
	});
});
