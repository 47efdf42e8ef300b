import type { AddressInfo } from "node:net";
import { expect } from "vitest";
import type { TestApp } from "./helpers.js";
import { SYSTEM_TENANT_ID } from "../src/core/system-tenant.js";
import { Browser, csrfOf } from "./prompt-browser.js";
import { SoftwareAuthenticator } from "./software-authenticator.js";

/**
 * What the console's tests over real HTTP need (issue 16): a browser per operator, each operator's own software
 * authenticator, and the walks through the system tenant's prompt (enroll from the link, sign in, step up).
 */
export class ConsoleDriver {
	readonly authenticators = new Map<string, SoftwareAuthenticator>();
	/** `loopback`: where the server listens; `origin`: the public URL (localhost, which WebAuthn accepts as an rp_id). */
	constructor(
		readonly loopback: string,
		readonly origin: string,
	) {}

	authenticatorOf(name: string): SoftwareAuthenticator {
		let found = this.authenticators.get(name);
		if (found === undefined) {
			found = new SoftwareAuthenticator("localhost", this.origin);
			this.authenticators.set(name, found);
		}
		return found;
	}

	/** A Location on the public origin, followed on the loopback address. */
	local(location: string): string {
		const url = new URL(location, this.loopback);
		return `${url.pathname}${url.search}`;
	}

	/** Options of the page's passkey button (an HTML attribute, so entities are undone). */
	optionsOf(html: string, ceremony: "register" | "authenticate") {
		const match = new RegExp(`data-passkey="${ceremony}" data-options="([^"]+)"`).exec(html);
		expect(match, html.slice(0, 2000)).not.toBeNull();
		return JSON.parse(match![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, "&"));
	}

	/** From the console's 303 to the prompt: /authorize, then the interaction page. */
	async toPrompt(browser: Browser, pushed: Response): Promise<{ url: string; html: string }> {
		expect(pushed.status, await pushed.clone().text()).toBe(303);
		const authorize = await browser.fetch(this.local(pushed.headers.get("location")!));
		expect(authorize.status, await authorize.clone().text()).toBe(303);
		const url = this.local(authorize.headers.get("location")!);
		expect(url).toMatch(new RegExp(`^/t/${SYSTEM_TENANT_ID}/interaction/`));
		return { url, html: await (await browser.fetch(url)).text() };
	}

	/** From the prompt's finishing 303 through the provider back to the console's callback; its answer. */
	async toConsole(browser: Browser, finished: Response): Promise<Response> {
		expect(finished.status, await finished.clone().text()).toBe(303);
		const resume = await browser.fetch(this.local(finished.headers.get("location")!));
		expect(resume.status, await resume.clone().text()).toBe(303);
		const callback = new URL(resume.headers.get("location")!);
		expect(callback.pathname).toBe("/console/callback");
		return browser.fetch(this.local(callback.href));
	}

	/** The enrollment link's page, its form, and the prompt's passkey enrollment; the callback's answer. */
	async enroll(browser: Browser, link: string, name: string): Promise<Response> {
		const token = new URL(link).hash.slice("#token=".length);
		const page = await (await browser.fetch("/console/enroll")).text();
		const prompt = await this.toPrompt(browser, await browser.post("/console/enroll", { csrf: csrfOf(page), token }));
		expect(await browser.post(`${prompt.url}/enroll`, { csrf: csrfOf(prompt.html), kind: "webauthn" })).toMatchObject({ status: 303 });
		const setup = await (await browser.fetch(prompt.url)).text();
		const confirmed = await browser.post(`${prompt.url}/enroll/confirm`, { csrf: csrfOf(setup), credential: JSON.stringify(this.authenticatorOf(name).register(this.optionsOf(setup, "register"))) });
		expect(confirmed.status, await confirmed.clone().text()).toBe(303);
		const codes = await (await browser.fetch(prompt.url)).text();
		return this.toConsole(browser, await browser.post(`${prompt.url}/recovery-codes/saved`, { csrf: csrfOf(codes), saved: "yes" }));
	}

	/** The sign-in page's form, up to the prompt's verify page. */
	async signIn(browser: Browser, name: string): Promise<{ url: string; html: string }> {
		const page = await (await browser.fetch("/console/sign-in")).text();
		return this.toPrompt(browser, await browser.post("/console/sign-in", { csrf: csrfOf(page), name }));
	}

	/** The prompt's verify page answered with the operator's passkey; the callback's answer. */
	async withPasskey(browser: Browser, prompt: { url: string; html: string }, name: string): Promise<Response> {
		const challenge = /name="challenge_id" value="([^"]+)"/.exec(prompt.html);
		expect(challenge, prompt.html.slice(0, 2000)).not.toBeNull();
		const posted = await browser.post(`${prompt.url}/verify`, { csrf: csrfOf(prompt.html), challenge_id: challenge![1]!, credential: JSON.stringify(this.authenticatorOf(name).assert(this.optionsOf(prompt.html, "authenticate"))) });
		return this.toConsole(browser, posted);
	}

	/** A browser signed in as the operator (enrolled already). */
	async signedIn(name: string): Promise<Browser> {
		const browser = new Browser(this.loopback);
		const back = await this.withPasskey(browser, await this.signIn(browser, name), name);
		expect(back.headers.get("location")).toBe("/console");
		return browser;
	}

	/** Creates, enrolls and signs in an operator; the signed-in browser. */
	async operator(create: () => Promise<{ link: string }>, name: string): Promise<Browser> {
		const browser = new Browser(this.loopback);
		const created = await create();
		const back = await this.enroll(browser, created.link, name);
		expect(back.headers.get("location"), await back.clone().text()).toBe("/console");
		return browser;
	}

	/** The step-up page's form, the prompt, the passkey; back where the action was asked. */
	async stepUp(browser: Browser, stepUpLocation: string, name: string): Promise<Response> {
		const page = await (await browser.fetch(this.local(stepUpLocation))).text();
		const next = /name="next" value="([^"]*)"/.exec(page)![1]!.replace(/&amp;/g, "&");
		const prompt = await this.toPrompt(browser, await browser.post("/console/step-up", { csrf: csrfOf(page), next }));
		return this.withPasskey(browser, prompt, name);
	}
}

/**
 * Puts a test app on loopback for the console: listening on 127.0.0.1, with localhost as its public URL (a browser
 * takes no IP address as a WebAuthn rp_id); the driver follows the one on the other.
 */
export async function listenForConsole(t: TestApp): Promise<ConsoleDriver> {
	await t.http.listen({ port: 0, host: "127.0.0.1" });
	const port = (t.http.server.address() as AddressInfo).port;
	const origin = `http://localhost:${port}`;
	t.app.listeningAt(origin);
	return new ConsoleDriver(`http://127.0.0.1:${port}`, origin);
}
