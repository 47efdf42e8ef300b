import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpSender } from "../../src/webhook-delivery/http-sender.js";
import { buildTestApp, DIALECTS, type TestApp } from "../helpers.js";

/**
 * Issue 12 finding 5, as the attack: webhook URLs aimed at special-purpose addresses the guard used to accept.
 * SECURITY.md has no SSRF ID; ASVS5 1.3.6 (SSRF allow-list). The full registry table is in
 * src/webhook-delivery/private-address.test.ts.
 */
const ACCEPTED_BEFORE = ["192.0.2.1", "198.51.100.1", "203.0.113.1", "[::7f00:1]", "[::ffff:0:7f00:1]", "[64:ff9b:1::7f00:1]", "[2002:7f00:1::1]", "[2001:0:7f00:1::1]", "[fec0::1]", "[100::1]"];
const VARIANTS = ["[::127.0.0.1]", "[64:ff9b::7f00:1]", "[64:ff9b::169.254.169.254]", "[::ffff:a9fe:a9fe]", "[3fff::1]", "[2001:db8::1]", "[ff02::1]", "224.0.0.251", "192.88.99.1", "[5f00::1]", "[2001:10::1]"];

describe.each(DIALECTS)("webhook destinations: special-purpose ranges (ASVS5 1.3.6, issue 12 #5) (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	it("refuses, at registration, every target the review found accepted and their variants", async () => {
		for (const host of [...ACCEPTED_BEFORE, ...VARIANTS]) {
			const res = await t.call("POST", "/v1/webhooks", { url: `http://${host}:8080/hook`, events: ["*"] });
			expect(res.status, host).toBe(400);
			expect(res.json.error?.code, host).toBe("webhook_url_not_allowed");
		}
		expect((await t.call("GET", "/v1/webhooks")).json.webhooks).toEqual([]);
	});

	it("refuses them at delivery too, whatever was saved", async () => {
		const send = httpSender(false);
		for (const host of [...ACCEPTED_BEFORE, ...VARIANTS]) {
			expect(await send(`http://${host}:8080/hook`, {}, "{}"), host).toEqual({ error: "destination not allowed (private address)" });
		}
	});
});
