import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_TENANT_ID } from "../src/core/system-tenant.js";
import { buildTestApp, DIALECTS, type TestApp } from "./helpers.js";
import { Browser, csrfOf } from "./prompt-browser.js";
import { type ConsoleDriver, listenForConsole } from "./console-browser.js";

/**
 * Issue 16: the console signs operators in through the system tenant's own prompt, over real HTTP on loopback, with
 * a software authenticator (the Chromium run with a virtual authenticator is test/e2e). An operator enrolls a
 * passkey from their one-time link, signs out, signs in with it; and what must not open a session does not.
 */
describe.each(DIALECTS)("console sign-in through the prompt (%s)", (dialect) => {
	let t: TestApp;
	let loopback: string;
	let d: ConsoleDriver;
	const local = (location: string): string => d.local(location);
	const optionsOf = (html: string, ceremony: "register" | "authenticate") => d.optionsOf(html, ceremony);
	const authenticatorOf = (name: string) => d.authenticatorOf(name);
	const enroll = (browser: Browser, token: string, name: string) => d.enroll(browser, `https://x/#token=${token}`, name);
	const signIn = (browser: Browser, name: string) => d.signIn(browser, name);
	const withPasskey = (browser: Browser, prompt: { url: string; html: string }, name: string) => d.withPasskey(browser, prompt, name);

	beforeAll(async () => {
		t = await buildTestApp({ dialect });
		d = await listenForConsole(t);
		loopback = d.loopback;
	});
	afterAll(() => t?.close());

	it("before any operator exists, the sign-in page says how to make one", async () => {
		const browser = new Browser(loopback);
		const page = await (await browser.fetch("/console/sign-in")).text();
		const answer = await browser.post("/console/sign-in", { csrf: csrfOf(page), name: "alice" });
		expect(answer.status).toBe(409);
		expect(await answer.text()).toContain("twofold operators create");
	});

	it("an operator enrolls a passkey from the link, is signed in, signs out, and signs in again with the passkey only", async () => {
		const created = await t.app.services.operators.create({ name: "alice", role: "support", tenants: [t.tenantId] });
		const browser = new Browser(loopback);
		const enrolled = await enroll(browser, new URL(created.link).hash.slice("#token=".length), "alice");
		expect(enrolled.status, await enrolled.clone().text()).toBe(303);
		expect(enrolled.headers.get("location")).toBe("/console");
		expect(browser.cookies.get("__Host-twofold-console")).toMatch(/^[A-Za-z0-9_-]{43}$/);
		const home = await (await browser.fetch("/console")).text();
		expect(home).toContain("Signed in as alice (support)");
		expect(home).toContain(`Tenants: ${t.tenantId}`);

		const signedOut = await browser.post("/console/sign-out", { csrf: csrfOf(home) });
		expect(signedOut.status).toBe(303);
		expect((await browser.fetch("/console")).headers.get("location")).toBe("/console/sign-in");

		// The passkey alone: the verify page offers no code field (acr_values phr), and the passkey opens a session.
		const prompt = await signIn(browser, "alice");
		expect(prompt.html).not.toContain('id="code-form"');
		const back = await withPasskey(browser, prompt, "alice");
		expect(back.headers.get("location")).toBe("/console");
		expect(await (await browser.fetch("/console")).text()).toContain("Signed in as alice (support)");
	});

	it("a link opens once: used again, it enrolls nothing", async () => {
		const created = await t.app.services.operators.create({ name: "bob", role: "viewer", tenants: "all" });
		const token = new URL(created.link).hash.slice("#token=".length);
		expect((await enroll(new Browser(loopback), token, "bob")).headers.get("location")).toBe("/console");
		const again = new Browser(loopback);
		const page = await (await again.fetch("/console/enroll")).text();
		const refused = await again.post("/console/enroll", { csrf: csrfOf(page), token });
		expect(refused.status).toBe(400);
		expect(await refused.text()).toContain("This enrollment link does not work");
	});

	it("attack: a name with no passkey (an operator who never enrolled, or no operator) gets no enrollment and no session", async () => {
		await t.app.services.operators.create({ name: "carol", role: "admin", tenants: "all" });
		for (const name of ["carol", "mallory"]) {
			const browser = new Browser(loopback);
			const page = await (await browser.fetch("/console/sign-in")).text();
			const pushed = await browser.post("/console/sign-in", { csrf: csrfOf(page), name });
			expect(pushed.status).toBe(303);
			// The system tenant denies a user with no factor: through the provider, straight back with access_denied.
			let location = pushed.headers.get("location")!;
			for (let hop = 0; hop < 6 && !location.includes("/console/callback"); hop += 1) {
				const answer = await browser.fetch(local(location));
				if (answer.status === 200) expect(await answer.text()).not.toContain('name="kind"');
				expect(answer.status, location).toBe(303);
				location = answer.headers.get("location")!;
			}
			const callback = new URL(location, loopback);
			expect(callback.pathname, location).toBe("/console/callback");
			expect(callback.searchParams.get("error")).toBe("access_denied");
			const answer = await browser.fetch(local(callback.href));
			expect(answer.status).toBe(400);
			expect(await answer.text()).toContain("The sign-in did not complete");
			expect(browser.cookies.has("__Host-twofold-console")).toBe(false);
		}
		expect(await t.app.store.factors.listForUser(SYSTEM_TENANT_ID, "carol")).toEqual([]);
		expect(await t.app.store.factors.listForUser(SYSTEM_TENANT_ID, "mallory")).toEqual([]);
	});

	it("attack: a callback with another state, without this browser's flow, or replayed, opens nothing", async () => {
		const browser = new Browser(loopback);
		const prompt = await signIn(browser, "alice");
		const challenge = /name="challenge_id" value="([^"]+)"/.exec(prompt.html)![1]!;
		const posted = await browser.post(`${prompt.url}/verify`, { csrf: csrfOf(prompt.html), challenge_id: challenge, credential: JSON.stringify(authenticatorOf("alice").assert(optionsOf(prompt.html, "authenticate"))) });
		const resume = await browser.fetch(local(posted.headers.get("location")!));
		const callback = new URL(resume.headers.get("location")!);
		// Another browser (no flow cookie) presenting this code: refused, and the code is not spent by it.
		const stranger = new Browser(loopback);
		expect((await stranger.fetch(local(callback.href))).status).toBe(400);
		expect(stranger.cookies.has("__Host-twofold-console")).toBe(false);
		// This browser, with the state altered: refused.
		const altered = new URL(callback.href);
		altered.searchParams.set("state", "x".repeat(43));
		expect((await browser.fetch(local(altered.href))).status).toBe(400);
		// The flow cookie is cleared by any callback: the genuine answer after that opens nothing either.
		expect((await browser.fetch(local(callback.href))).status).toBe(400);
		expect(browser.cookies.has("__Host-twofold-console")).toBe(false);
	});

	it("attack: forms without this browser's CSRF token are refused (403), and a disabled operator's session ends", async () => {
		const browser = new Browser(loopback);
		await browser.fetch("/console/sign-in");
		for (const [path, fields] of [["/console/sign-in", { name: "alice" }], ["/console/enroll", { token: "0".repeat(52) }], ["/console/sign-out", {}]] as const) {
			expect((await browser.post(path, fields)).status, path).toBe(403);
			expect((await browser.post(path, { ...fields, csrf: "forged" })).status, path).toBe(403);
			// Another browser's token (the same action) is no token here.
			const other = new Browser(loopback);
			const otherPage = await (await other.fetch(path === "/console/enroll" ? "/console/enroll" : "/console/sign-in")).text();
			if (path !== "/console/sign-out") expect((await browser.post(path, { ...fields, csrf: csrfOf(otherPage) })).status, path).toBe(403);
		}

		const session = new Browser(loopback);
		expect((await withPasskey(session, await signIn(session, "alice"), "alice")).headers.get("location")).toBe("/console");
		await t.app.services.operators.disable("alice");
		expect((await session.fetch("/console")).headers.get("location")).toBe("/console/sign-in");
	});
});
