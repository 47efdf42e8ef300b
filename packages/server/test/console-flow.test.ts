import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_TENANT_ID } from "../src/core/system-tenant.js";
import { buildTestApp, DIALECTS, type TestApp } from "./helpers.js";
import { Browser, csrfOf } from "./prompt-browser.js";
import { SoftwareAuthenticator } from "./software-authenticator.js";

/**
 * Issue 16: the console signs operators in through the system tenant's own prompt, over real HTTP on loopback, with
 * a software authenticator (the Chromium run with a virtual authenticator is test/e2e). An operator enrolls a
 * passkey from their one-time link, signs out, signs in with it; and what must not open a session does not.
 */
describe.each(DIALECTS)("console sign-in through the prompt (%s)", (dialect) => {
	let t: TestApp;
	let loopback: string;
	let origin: string;
	/** Each operator's own authenticator (one key each), as each person holds their own. */
	const authenticators = new Map<string, SoftwareAuthenticator>();
	const authenticatorOf = (name: string): SoftwareAuthenticator => {
		let found = authenticators.get(name);
		if (found === undefined) {
			found = new SoftwareAuthenticator("localhost", origin);
			authenticators.set(name, found);
		}
		return found;
	};

	/** Options of the page's passkey button (an HTML attribute, so entities are undone). */
	const optionsOf = (html: string, ceremony: "register" | "authenticate") => {
		const match = new RegExp(`data-passkey="${ceremony}" data-options="([^"]+)"`).exec(html);
		expect(match, html.slice(0, 2000)).not.toBeNull();
		return JSON.parse(match![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, "&"));
	};
	/** A Location on the public origin (localhost), followed on the loopback address the server listens at. */
	const local = (location: string): string => {
		const url = new URL(location, loopback);
		return `${url.pathname}${url.search}`;
	};

	/** From the console's 303 to the prompt: /authorize, then the interaction page. */
	async function toPrompt(browser: Browser, pushed: Response): Promise<{ url: string; html: string }> {
		expect(pushed.status, await pushed.clone().text()).toBe(303);
		const authorize = await browser.fetch(local(pushed.headers.get("location")!));
		expect(authorize.status, await authorize.clone().text()).toBe(303);
		const url = local(authorize.headers.get("location")!);
		expect(url).toMatch(new RegExp(`^/t/${SYSTEM_TENANT_ID}/interaction/`));
		return { url, html: await (await browser.fetch(url)).text() };
	}

	/** From the prompt's finishing 303 through the provider back to the console's callback; its answer. */
	async function toConsole(browser: Browser, finished: Response): Promise<Response> {
		expect(finished.status, await finished.clone().text()).toBe(303);
		const resume = await browser.fetch(local(finished.headers.get("location")!));
		expect(resume.status, await resume.clone().text()).toBe(303);
		const callback = new URL(resume.headers.get("location")!);
		expect(callback.pathname).toBe("/console/callback");
		return browser.fetch(local(callback.href));
	}

	async function enroll(browser: Browser, token: string, name: string): Promise<Response> {
		const authenticator = authenticatorOf(name);
		const page = await (await browser.fetch("/console/enroll")).text();
		const prompt = await toPrompt(browser, await browser.post("/console/enroll", { csrf: csrfOf(page), token }));
		expect(await browser.post(`${prompt.url}/enroll`, { csrf: csrfOf(prompt.html), kind: "webauthn" })).toMatchObject({ status: 303 });
		const setup = await (await browser.fetch(prompt.url)).text();
		const confirmed = await browser.post(`${prompt.url}/enroll/confirm`, { csrf: csrfOf(setup), credential: JSON.stringify(authenticator.register(optionsOf(setup, "register"))) });
		expect(confirmed.status, await confirmed.clone().text()).toBe(303);
		const codes = await (await browser.fetch(prompt.url)).text();
		return toConsole(browser, await browser.post(`${prompt.url}/recovery-codes/saved`, { csrf: csrfOf(codes), saved: "yes" }));
	}

	async function signIn(browser: Browser, name: string): Promise<{ url: string; html: string }> {
		const page = await (await browser.fetch("/console/sign-in")).text();
		return toPrompt(browser, await browser.post("/console/sign-in", { csrf: csrfOf(page), name }));
	}

	async function withPasskey(browser: Browser, prompt: { url: string; html: string }, name: string): Promise<Response> {
		const authenticator = authenticatorOf(name);
		const challenge = /name="challenge_id" value="([^"]+)"/.exec(prompt.html);
		expect(challenge, prompt.html.slice(0, 2000)).not.toBeNull();
		const posted = await browser.post(`${prompt.url}/verify`, { csrf: csrfOf(prompt.html), challenge_id: challenge![1]!, credential: JSON.stringify(authenticator.assert(optionsOf(prompt.html, "authenticate"))) });
		return toConsole(browser, posted);
	}

	beforeAll(async () => {
		t = await buildTestApp({ dialect });
		await t.http.listen({ port: 0, host: "127.0.0.1" });
		const port = (t.http.server.address() as AddressInfo).port;
		loopback = `http://127.0.0.1:${port}`;
		// localhost, not 127.0.0.1: a browser takes no IP address as a WebAuthn rp_id.
		origin = `http://localhost:${port}`;
		t.app.listeningAt(origin);
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
