import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleDriver, listenForConsole } from "./console-browser.js";
import { buildTestApp, DIALECTS, enrollActive, type TestApp } from "./helpers.js";
import { type Browser, csrfOf } from "./prompt-browser.js";
import { SMTPSink } from "./smtp-sink.js";

/**
 * Issue 16: a support person's reset sends the user's application the security notice always (R-LC-5), and an email
 * notice to an address typed on the form (as POST /v1/users/{id}/reset's notify_email), through real SMTP.
 */
describe.each(DIALECTS)("console reset notice (%s)", (dialect) => {
	let t: TestApp;
	let d: ConsoleDriver;
	let smtp: SMTPSink;
	let support: Browser;
	const userPath = (userId: string) => `/console/t/${t.tenantId}/users/${userId}`;

	beforeAll(async () => {
		smtp = new SMTPSink();
		await smtp.start();
		t = await buildTestApp({ dialect, env: { TWOFOLD_SMTP_URL: smtp.url, TWOFOLD_SMTP_FROM: "twofold@example.com" } });
		d = await listenForConsole(t);
		support = await d.operator(() => t.app.services.operators.create({ name: "sam", role: "support", tenants: [t.tenantId] }), "sam");
	});
	afterAll(async () => {
		await t?.close();
		await smtp?.stop();
	});

	it("emails the notice to the address given, refuses one that is not an address, and always records the webhook notice", async () => {
		await enrollActive(t, "mailed");
		const page = await (await support.fetch(userPath("mailed"))).text();
		expect(page).toContain('id="notify"');
		const bad = await support.post(`${userPath("mailed")}/reset`, { csrf: csrfOf(page), reason: "lost phone", notify: "not an address" });
		expect(bad.status).toBe(400);
		expect(await bad.text()).toContain("Enter an email address, or leave the field empty");
		expect((await t.call("GET", "/v1/users/mailed")).json.factors).toHaveLength(1);

		const done = await support.post(`${userPath("mailed")}/reset`, { csrf: csrfOf(page), reason: "lost phone", notify: "mailed@example.com" });
		expect(done.headers.get("location")).toBe(`${userPath("mailed")}?done=reset_emailed`);
		expect(await (await support.fetch(done.headers.get("location")!)).text()).toContain("the user was emailed");
		const mail = smtp.mails.find((m) => m.to.includes("mailed@example.com"));
		expect(mail?.subject).toContain("Two-factor authentication was turned off");
		expect((await t.call("GET", "/v1/events?user_id=mailed&type=user.security_notice")).json.events).toHaveLength(1);
	});
});
