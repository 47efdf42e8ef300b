import type { AddressInfo } from "node:net";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, enrollActive, nextStep, type TestApp } from "../helpers.js";
import { axeViolations } from "./axe.js";
import { hasTool } from "./process.js";
import { Screenshots } from "./prompt-browser-screenshots.js";

const CHROMIUM = hasTool("chromium", "chromium");
/** The flags TOOLS.md gives for Debian Chromium on these machines (as the prompt's browser tests). */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** The console's screenshots docs/console.md shows. */
const DOCUMENTED = ["console-sign-in", "console-users", "console-user"] as const;
const DOCS_FOLDER = new URL("../../../../docs/console-screenshots/", import.meta.url).pathname;
/** A user id that is markup: rendered as text, it runs nothing; parsed as HTML, it would set window.__pwned. */
const MARKUP_ID = "<svg/onload=window.__pwned=1>";

/**
 * The operator console in Debian Chromium (issue 16): an operator opens the enrollment link the CLI prints, sets up a
 * passkey in the CDP virtual authenticator through the prompt, finds a locked user and unlocks them (the user's correct
 * code then verifies over the API), resets another with a reason; axe-core finds no WCAG 2.1 A/AA violation on the
 * console's pages; a user id that is markup runs no script; nothing is loaded from another origin.
 */
describe.skipIf(!CHROMIUM)("the operator console in Chromium", () => {
	let t: TestApp;
	let origin: string;
	let browser: Browser;
	let context: BrowserContext;
	let page: Page;
	let lockedSecret = "";
	const seen: string[] = [];
	const shots = new Screenshots(undefined, DOCUMENTED, DOCS_FOLDER);

	const title = () => page.textContent("h1#page-title");
	async function navigate(action: () => Promise<unknown>): Promise<void> {
		await Promise.all([page.waitForNavigation(), action()]);
	}
	async function accessible(name: string): Promise<void> {
		expect(await axeViolations(page), name).toEqual([]);
	}

	beforeAll(async () => {
		t = await buildTestApp();
		await t.http.listen({ port: 0, host: "127.0.0.1" });
		// localhost: a secure context for WebAuthn and __Host- cookies, and a host name a passkey can be bound to.
		origin = `http://localhost:${(t.http.server.address() as AddressInfo).port}`;
		t.app.listeningAt(origin);
		expect((await t.call("PATCH", "/v1/tenant", { attempts: { lock_after: 3 } })).status).toBe(200);
		lockedSecret = (await enrollActive(t, "locked-user")).secret;
		for (let attempt = 0; attempt < 3; attempt += 1) await t.call("POST", "/v1/users/locked-user/verify", { code: "000000" });
		await enrollActive(t, "lost-phone");
		await enrollActive(t, MARKUP_ID);

		browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
		context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
		context.on("request", (request) => {
			const url = new URL(request.url());
			if (url.protocol !== "data:" && url.origin !== origin) seen.push(`request to ${url.origin}`);
		});
		page = await context.newPage();
		page.on("pageerror", (error) => seen.push(`script error: ${error.message}`));
		page.on("console", (message) => {
			if (message.type() === "error" && !/status of 4\d\d/.test(message.text())) seen.push(`console: ${message.text()}`);
		});
		const cdp = await context.newCDPSession(page);
		await cdp.send("WebAuthn.enable");
		await cdp.send("WebAuthn.addVirtualAuthenticator", {
			options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
		});
	}, 120_000);
	afterAll(async () => {
		await browser?.close();
		shots.finish();
		await t?.close();
	});

	it("an operator enrolls a passkey from the CLI's link, unlocks a locked user and resets another; every page passes axe", async () => {
		const created = await t.app.services.operators.create({ name: "sam", role: "support", tenants: [t.tenantId] });
		await page.goto(created.link);
		expect(await title()).toBe("Set up your passkey");
		// The page's module moved the token from the fragment into the form, and off the address bar.
		expect(await page.inputValue("#token")).toMatch(/^[0-9a-hjkmnp-tv-z]{52}$/);
		expect(new URL(page.url()).hash).toBe("");
		await accessible("enroll");
		await navigate(() => page.click("#enroll"));
		// The system tenant's prompt: the operator chooses a passkey.
		await page.check("#kind-webauthn");
		await navigate(() => page.click("#enroll-submit"));
		await navigate(() => page.click("#passkey-create"));
		expect(await title()).toBe("Save your recovery codes");
		await page.check("#saved");
		await navigate(() => page.click("#saved-submit"));
		await page.waitForURL(`${origin}/console`);
		expect(await page.textContent("#signed-in-as")).toContain("Signed in as sam (support)");
		await accessible("home");

		await navigate(() => page.click(`a[href="/console/t/${t.tenantId}/users"]`));
		await page.check("#locked");
		await navigate(() => page.click("#search"));
		expect(await page.locator("#users tbody tr").count()).toBe(1);
		await accessible("users");
		await shots.take(page, "console-users");
		await navigate(() => page.click("#users a"));
		expect(await page.textContent("#lock-state")).toBe("Locked");
		await accessible("user");
		await shots.take(page, "console-user");
		await navigate(() => page.click("#unlock"));
		expect(await page.textContent("#notice")).toBe("The user is unlocked.");
		nextStep(t.clock);
		expect((await t.call("POST", "/v1/users/locked-user/verify", { code: codeFor(lockedSecret, t.clock()) })).status).toBe(200);

		await page.goto(`${origin}/console/t/${t.tenantId}/users/lost-phone`);
		await page.fill("#reason", "lost phone, ticket 4711");
		await navigate(() => page.click("#reset"));
		expect(await page.textContent("#notice")).toContain("All factors and recovery codes were removed");
		expect((await t.call("GET", "/v1/users/lost-phone")).json.factors).toEqual([]);

		// Signed out, then in again with the passkey alone.
		await navigate(() => page.click("#sign-out"));
		expect(await title()).toBe("Sign in to the console");
		await accessible("sign-in");
		await shots.take(page, "console-sign-in");
		await page.fill("#name", "sam");
		await navigate(() => page.click("#sign-in"));
		expect(await page.locator("#code-form").count()).toBe(0);
		await Promise.all([page.waitForURL(`${origin}/console`), page.click("#passkey")]);
		expect(await page.textContent("#signed-in-as")).toContain("sam");
	});

	it("the events, webhooks, keys and settings pages pass axe too, at both sizes", async () => {
		for (const section of ["events", "webhooks", "keys", "settings"]) {
			await page.goto(`${origin}/console/t/${t.tenantId}/${section}`);
			expect(await title(), section).not.toBeNull();
			await accessible(section);
			await page.setViewportSize({ width: 390, height: 844 });
			await accessible(`${section} (phone)`);
			await page.setViewportSize({ width: 1280, height: 800 });
		}
	});

	it("a user id that is markup is shown as text and runs nothing (R-PG-8), and the pages loaded nothing from elsewhere", async () => {
		await page.goto(`${origin}/console/t/${t.tenantId}/users?q=${encodeURIComponent("<svg")}`);
		expect(await page.locator("#users a").first().textContent()).toBe(MARKUP_ID);
		expect(await page.locator("#users svg").count()).toBe(0);
		await navigate(() => page.click("#users a"));
		expect(await page.textContent("#page-title")).toBe(`User ${MARKUP_ID}`);
		expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
		expect(seen).toEqual([]);
	});
});
