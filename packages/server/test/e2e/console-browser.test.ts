import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, type BrowserContext, chromium, type Page, type Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliverDue } from "../../src/services/webhook-delivery.js";
import { httpSender } from "../../src/webhook-delivery/http-sender.js";
import { buildTestApp, codeFor, enrollActive, nextStep, type TestApp } from "../helpers.js";
import { axeViolations } from "./axe.js";
import { hasTool } from "./process.js";
import { Screenshots } from "./prompt-browser-screenshots.js";

const CHROMIUM = hasTool("chromium", "chromium");
/** The flags TOOLS.md gives for Debian Chromium on these machines (as the prompt's browser tests). */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** The console's screenshots docs/console.md shows. */
const DOCUMENTED = ["console-sign-in", "console-overview", "console-users", "console-user"] as const;
const DOCS_FOLDER = new URL("../../../../docs/console-screenshots/", import.meta.url).pathname;
/** A user id that is markup: rendered as text, it runs nothing; parsed as HTML, it would set window.__pwned. */
const MARKUP_ID = "<svg/onload=window.__pwned=1>";
/**
 * What a tenant, an application or a user can type, each of which would run script if a page put it in as HTML
 * (R-PG-8): a script element, an attribute break-out (inside a value="…"), an element with a handler, a javascript:
 * link. Factor names take no ':' (the API's label rule), so the javascript: link goes in reasons only.
 */
const SCRIPT = "<script>window.__pwned=1;alert(1)</script>";
const HOVER = '"onmouseover="window.__pwned=1;alert(1)" x="';
const IMG = "<img src=x onerror=window.__pwned=1;alert(1)>";
const LINK = "<a href=javascript:window.__pwned=1>help</a>";
const REASON = `ticket 4713 ${SCRIPT} ${IMG} ${LINK} ${HOVER}`;
/** How preact-render-to-string escapes text and attribute values ('>' and "'" are left as they are). */
const escaped = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");

/**
 * The operator console in Debian Chromium (issue 16): an operator opens the enrollment link the CLI prints, sets up a
 * passkey in the CDP virtual authenticator through the prompt, finds a locked user and unlocks them (the user's correct
 * code then verifies over the API), resets another with a reason (the event and the webhook a real loopback receiver
 * gets name the operator; the user's security notice goes too), retries a delivery the receiver refused; an admin
 * creates an API key after a step-up and revokes it; axe-core finds no WCAG 2.1 A/AA violation on the console's pages;
 * markup in user ids, factor names, reasons, a webhook URL, settings and search fields runs no script, with the CSP
 * and without it (detectors proven on the same pages unescaped); nothing is loaded from another origin.
 */
describe.skipIf(!CHROMIUM)("the operator console in Chromium", () => {
	let t: TestApp;
	let origin: string;
	let browser: Browser;
	let context: BrowserContext;
	let page: Page;
	let lockedSecret = "";
	let samId = "";
	const seen: string[] = [];
	/** Every dialog (alert, confirm…) any page of the test opened. */
	const dialogs: string[] = [];
	/** A real webhook receiver on loopback: answers `answer`, keeps what it was sent. */
	let receiver: Server;
	let receiverOrigin = "";
	let answer = 204;
	const received: { path: string; id: string; status: number; body: { type: string; data: Record<string, unknown> } }[] = [];
	let webhookId = "";
	const send = httpSender(true);
	/** The delivery worker's passes, run here until nothing is due (as test/http/webhooks.test.ts drives it). */
	const drain = async () => {
		while ((await deliverDue(t.app.services.deps, send)) > 0);
	};
	const shots = new Screenshots(undefined, DOCUMENTED, DOCS_FOLDER);

	const title = () => page.textContent("h1#page-title");
	async function navigate(action: () => Promise<unknown>): Promise<void> {
		await Promise.all([page.waitForNavigation(), action()]);
	}
	async function accessible(name: string): Promise<void> {
		expect(await axeViolations(page), name).toEqual([]);
	}

	beforeAll(async () => {
		// Loopback webhook targets allowed: the receiver below is on 127.0.0.1.
		t = await buildTestApp({ env: { TWOFOLD_WEBHOOK_ALLOW_PRIVATE: "true" } });
		await t.http.listen({ port: 0, host: "127.0.0.1" });
		// localhost: a secure context for WebAuthn and __Host- cookies, and a host name a passkey can be bound to.
		origin = `http://localhost:${(t.http.server.address() as AddressInfo).port}`;
		t.app.listeningAt(origin);
		expect((await t.call("PATCH", "/v1/tenant", { attempts: { lock_after: 3 } })).status).toBe(200);
		lockedSecret = (await enrollActive(t, "locked-user")).secret;
		for (let attempt = 0; attempt < 3; attempt += 1) await t.call("POST", "/v1/users/locked-user/verify", { code: "000000" });
		await enrollActive(t, "lost-phone");
		await enrollActive(t, MARKUP_ID);
		await enrollActive(t, "reset-user");

		receiver = createServer((request, response) => {
			let body = "";
			request.on("data", (chunk) => (body += chunk));
			request.on("end", () => {
				received.push({ path: request.url ?? "", id: String(request.headers["webhook-id"]), status: answer, body: JSON.parse(body) });
				response.writeHead(answer).end();
			});
		});
		await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
		receiverOrigin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
		const hook = await t.call("POST", "/v1/webhooks", { url: `${receiverOrigin}/hooks`, events: ["*"] });
		expect(hook.status, hook.body).toBe(201);
		webhookId = hook.json.webhook.id;

		browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
		context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
		context.on("request", (request) => {
			const url = new URL(request.url());
			if (url.protocol !== "data:" && url.origin !== origin) seen.push(`request to ${url.origin}`);
		});
		page = await context.newPage();
		page.on("pageerror", (error) => seen.push(`script error: ${error.message}`));
		page.on("console", (message) => {
			// A CSP refusal is reported here too ("Refused to execute inline script…"): markup that got in as HTML.
			if (message.type() === "error" && !/status of 4\d\d/.test(message.text())) seen.push(`console: ${message.text()}`);
		});
		page.on("dialog", (dialog) => {
			dialogs.push(dialog.message());
			seen.push(`dialog: ${dialog.message()}`);
			void dialog.dismiss();
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
		await new Promise((resolve) => receiver?.close(resolve));
	});

	/** The enrollment link's page, the prompt's passkey set-up in the virtual authenticator, the recovery codes; signed in. */
	async function enrollFromLink(link: string, onEnrollPage: () => Promise<void> = async () => {}): Promise<void> {
		await page.goto(link);
		expect(await title()).toBe("Set up your passkey");
		// The page's module moved the token from the fragment into the form, and off the address bar.
		expect(await page.inputValue("#token")).toMatch(/^[0-9a-hjkmnp-tv-z]{52}$/);
		expect(new URL(page.url()).hash).toBe("");
		await onEnrollPage();
		await navigate(() => page.click("#enroll"));
		// The system tenant's prompt: the operator chooses a passkey.
		await page.check("#kind-webauthn");
		await navigate(() => page.click("#enroll-submit"));
		await navigate(() => page.click("#passkey-create"));
		expect(await title()).toBe("Save your recovery codes");
		await page.check("#saved");
		await navigate(() => page.click("#saved-submit"));
		await page.waitForURL(`${origin}/console`);
	}

	/**
	 * What would show that a page ran, or could run, script from its data: window.__pwned set, a dialog opened, an inline
	 * script element, an on… attribute, a javascript: URL, an element data could bring (img, svg, iframe). Opens the
	 * page, expands every event and hovers every element whose text or attributes hold a payload (mouseover handlers).
	 */
	async function probe(p: Page, url: string): Promise<string[]> {
		const dialogsBefore = dialogs.length;
		await p.goto(url);
		// Every event opened as an operator opens it (they are all closed when the page loads).
		for (const summary of await p.locator("main details > summary").all()) await summary.click();
		const targets = await p.evaluate(() => {
			let count = 0;
			for (const element of document.querySelectorAll("main *")) {
				if (element.closest("select") !== null) continue;
				const text = [...element.childNodes].some((node) => node.nodeType === Node.TEXT_NODE && (node.textContent ?? "").includes("pwned"));
				const attribute = [...element.attributes].some((a) => a.value.includes("pwned")) || (element instanceof HTMLInputElement && element.value.includes("pwned"));
				if (text || attribute) element.setAttribute("data-probe", String(count++));
			}
			return count;
		});
		for (let index = 0; index < targets; index += 1) {
			const target = p.locator(`[data-probe="${index}"]`);
			if (await target.isVisible()) await target.hover({ force: true });
		}
		const found = await p.evaluate(() => {
			const all = [...document.querySelectorAll("*")];
			const pwned = (window as unknown as { __pwned?: unknown }).__pwned;
			return [
				...(pwned === undefined ? [] : [`window.__pwned = ${String(pwned)}`]),
				...[...document.querySelectorAll("script:not([src])")].map(() => "an inline script element"),
				...all.flatMap((element) => [...element.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `a handler: ${element.localName}[${a.name}]`)),
				...all.flatMap((element) => [...element.attributes].filter((a) => /^\s*javascript:/i.test(a.value)).map((a) => `a javascript: URL: ${element.localName}[${a.name}]`)),
				...[...document.querySelectorAll("main :is(img, svg, iframe, object, embed)")].map((element) => `an element from data: ${element.localName}`),
			];
		});
		return dialogs.length > dialogsBefore ? [...found, `a dialog: ${dialogs.slice(dialogsBefore).join(", ")}`] : found;
	}

	/**
	 * The detector's control: the same page with the payloads put back unescaped, as a page that forgot to escape would
	 * send them. The probe must find them (and the page must have held them, or the control proves nothing).
	 */
	async function probeUnescaped(p: Page, url: string): Promise<string> {
		let changed = false;
		const splice = async (route: Route) => {
			if (route.request().resourceType() !== "document") return route.continue();
			const response = await route.fetch();
			const html = await response.text();
			const body = [SCRIPT, HOVER, IMG, LINK].reduce((out, raw) => out.replaceAll(escaped(raw), raw), html);
			changed ||= body !== html;
			await route.fulfill({ response, body });
		};
		await p.route("**/*", splice);
		try {
			const found = await probe(p, url);
			expect(changed, url).toBe(true);
			return found.join("\n");
		} finally {
			await p.unroute("**/*", splice);
		}
	}

	/** The API over real HTTP (not inject), as an application would call it with the key. */
	async function overHTTP(path: string, key: string): Promise<number> {
		const port = (t.http.server.address() as AddressInfo).port;
		return (await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${key}` } })).status;
	}

	it("an operator enrolls a passkey from the CLI's link, unlocks a locked user and resets another; every page passes axe", async () => {
		const created = await t.app.services.operators.create({ name: "sam", role: "support", tenants: [t.tenantId] });
		samId = created.operator.id;
		await enrollFromLink(created.link, () => accessible("enroll"));
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

	it("the overview, events, webhooks, keys and settings pages pass axe too, at both sizes", async () => {
		// The overview's charts count events two minutes old and more (services/event-rollups.ts): fold what the tests
		// before wrote, so its bars and tables are drawn.
		t.clock.advance(3 * 60_000);
		expect((await t.app.services.console.foldRollups()).folded).toBeGreaterThan(0);
		await page.goto(`${origin}/console/t/${t.tenantId}`);
		expect(Number(await page.textContent("#gauge-users"))).toBeGreaterThan(0);
		expect(await page.locator("#day-chart rect").count()).toBeGreaterThan(0);
		await accessible("overview");
		await page.click("#day-heading ~ details summary");
		await accessible("overview (numbers shown)");
		await page.setViewportSize({ width: 390, height: 844 });
		await accessible("overview (phone)");
		await page.setViewportSize({ width: 1280, height: 800 });
		await shots.take(page, "console-overview");
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

	it("a reset with a reason in the browser: the event and its webhook name the operator and the reason; the user's application gets user.security_notice", async () => {
		await drain();
		const before = received.length;
		await page.goto(`${origin}/console/t/${t.tenantId}/users/reset-user`);
		await page.fill("#reason", "stolen phone, ticket 4712");
		await navigate(() => page.click("#reset"));
		expect(await page.textContent("#notice")).toContain("All factors and recovery codes were removed");

		const operator = { type: "operator", id: samId, name: "sam" };
		const [reset] = (await t.call("GET", "/v1/events?type=admin.factor_reset&user_id=reset-user")).json.events;
		expect(reset.data).toMatchObject({ actor: operator, reason: "stolen phone, ticket 4712", factors_removed: 1 });
		expect(reset.data).not.toHaveProperty("actor_key_id");
		const [notice] = (await t.call("GET", "/v1/events?type=user.security_notice&user_id=reset-user")).json.events;
		expect(notice.data).toMatchObject({ reason: "admin_reset" });

		// The worker sends both to the real receiver on loopback, signed, and records them delivered.
		await drain();
		const sent = received.slice(before).filter((message) => message.path === "/hooks" && message.body.data.user_id === "reset-user");
		expect(sent.find((message) => message.body.type === "admin.factor_reset")).toMatchObject({ id: reset.id, status: 204, body: { data: { event_id: reset.id, actor: operator, reason: "stolen phone, ticket 4712" } } });
		expect(sent.find((message) => message.body.type === "user.security_notice")).toMatchObject({ id: notice.id, status: 204, body: { data: { reason: "admin_reset" } } });
		const deliveries = (await t.call("GET", `/v1/webhooks/${webhookId}/deliveries?limit=100`)).json.deliveries as { id: string; status: string }[];
		expect(deliveries.filter((delivery) => delivery.id === reset.id || delivery.id === notice.id).map((delivery) => delivery.status)).toEqual(["delivered", "delivered"]);
	});

	it("a delivery the receiver refused (500) waits for its back-off; Retry in the browser makes it due now, and it is delivered", async () => {
		await drain();
		answer = 500;
		await enrollActive(t, "hook-user");
		await drain();
		const failing = (await t.call("GET", `/v1/webhooks/${webhookId}/deliveries`)).json.deliveries.filter((delivery: { attempts: number; status: string }) => delivery.status === "pending" && delivery.attempts > 0);
		expect(failing).toHaveLength(1);
		const [delivery] = failing;
		expect(delivery).toMatchObject({ attempts: 1, last_status_code: 500, last_error: "HTTP 500" });
		// The receiver is well again, but the delivery is not due until its back-off ends: the worker sends nothing.
		answer = 204;
		expect(await deliverDue(t.app.services.deps, send)).toBe(0);

		await page.goto(`${origin}/console/t/${t.tenantId}/webhooks/${webhookId}`);
		const row = page.locator("#deliveries tbody tr", { hasText: "500 HTTP 500" });
		expect(await row.count()).toBe(1);
		expect(await row.locator("td").nth(2).textContent()).toBe("1");
		await navigate(() => row.getByRole("button", { name: `Retry the ${delivery.event_type} delivery now` }).click());
		expect(await page.textContent("#notice")).toBe("The delivery will be tried again now.");
		await drain();

		const after = (await t.call("GET", `/v1/webhooks/${webhookId}/deliveries`)).json.deliveries as { id: string; status: string; attempts: number; last_status_code: number }[];
		expect(after.find((entry) => entry.id === delivery.id)).toMatchObject({ status: "delivered", attempts: 2, last_status_code: 204 });
		expect(received.filter((message) => message.id === delivery.id).map((message) => message.status)).toEqual([500, 204]);
		// The user's later events waited behind it (one user's deliveries keep their order); they went too.
		expect(after.filter((entry) => entry.status !== "delivered")).toEqual([]);
		await page.reload();
		expect(await page.locator("#deliveries tbody tr", { hasText: "HTTP 500" }).count()).toBe(0);
		expect(await page.locator("#deliveries button").count()).toBe(0);
	});

	it("an admin creates an API key in the browser after a step-up (shown once), it works over HTTP, then revoked in the browser it is refused", async () => {
		const ada = await t.app.services.operators.create({ name: "ada", role: "admin", tenants: [t.tenantId] });
		await navigate(() => page.click("#sign-out"));
		await enrollFromLink(ada.link);
		expect(await page.textContent("#signed-in-as")).toContain("Signed in as ada (admin)");
		// The passkey verification of the enrollment is now over 5 minutes old: creating a key asks for a new one.
		t.clock.advance(6 * 60_000);
		const keys = `${origin}/console/t/${t.tenantId}/keys`;
		await page.goto(keys);
		await page.check("#scope-default");
		await navigate(() => page.click("#create-key"));
		expect(await title()).toBe("Confirm it's you");
		await navigate(() => page.click("#step-up"));
		expect(await page.locator("#code-form").count()).toBe(0);
		await Promise.all([page.waitForURL(keys), page.click("#passkey")]);
		await navigate(() => page.click("#create-key"));
		const token = (await page.textContent("#new-key"))!.trim();
		expect(token).toMatch(/^tfk_/);
		expect(await overHTTP("/v1/users/locked-user", token)).toBe(200);

		// Shown once: the list does not show it again, only its id.
		await page.goto(keys);
		expect(await page.content()).not.toContain(token);
		const keyId = `key_${token.split("_")[1]}`;
		const row = page.locator("#keys tbody tr", { hasText: keyId });
		await navigate(() => row.getByRole("button", { name: `Revoke ${keyId}` }).click());
		expect(await page.textContent("#notice")).toBe("The key is revoked: requests with it are refused from now on.");
		expect(await row.locator("td").nth(4).textContent()).toMatch(/^Revoked/);
		expect(await overHTTP("/v1/users/locked-user", token)).toBe(401);
		const events = (await t.call("GET", "/v1/events?limit=10")).json.events as { type: string; data: Record<string, unknown> }[];
		const actor = { type: "operator", id: ada.operator.id, name: "ada" };
		expect(events.find((event) => event.type === "api_key.created")!.data).toMatchObject({ key_id: keyId, actor });
		expect(events.find((event) => event.type === "api_key.revoked")!.data).toMatchObject({ key_id: keyId, actor });
	});

	it("attack: markup, handlers and javascript: URLs in factor names, reasons, a webhook URL, settings and search fields are shown as text and run nothing, with or without the CSP (R-PG-8)", async () => {
		// Factor names through the API (no ':' allowed in a name, so no javascript: URL there).
		const first = await enrollActive(t, "xss-user", { label: SCRIPT });
		for (const label of [HOVER, IMG]) {
			nextStep(t.clock);
			await enrollActive(t, "xss-user", { label, code: codeFor(first.secret, t.clock()) });
		}
		const refused = await t.call("POST", "/v1/users/xss-user/factors", { type: "totp", label: "javascript:window.__pwned=1" });
		expect(refused.status).toBe(400);
		expect(refused.body).toContain("/label");
		const spare = await enrollActive(t, "xss-reset", { label: "old phone" });
		nextStep(t.clock);
		await enrollActive(t, "xss-reset", { label: "new phone", code: codeFor(spare.secret, t.clock()) });
		// A webhook URL keeps ' and javascript: but not <, > or ": the API stores it as WHATWG serialises it (%3C, %3E, %22).
		const typed = `${receiverOrigin}/hooks/'onmouseover='window.__pwned=1'/javascript:window.__pwned=1/<b>"x"</b>`;
		const hook = await t.call("POST", "/v1/webhooks", { url: typed, events: ["user.locked"] });
		expect(hook.status, hook.body).toBe(201);
		const hookURL: string = hook.json.webhook.url;
		expect(hookURL).toBe(new URL(typed).href);
		expect(hookURL).toContain("'onmouseover='window.__pwned=1'/javascript:");
		expect(hookURL).not.toMatch(/[<>"]/);
		// The prompt's support text takes markup; its support link refuses a javascript: URL.
		const supportText = `${SCRIPT} ${HOVER}`;
		expect((await t.call("PATCH", "/v1/tenant", { prompt: { support_text: supportText } })).status).toBe(200);
		expect((await t.call("PATCH", "/v1/tenant", { prompt: { support_url: "javascript:window.__pwned=1" } })).status).toBe(400);
		// Event data from the console itself: a factor removed and a reset, each with the reason as typed.
		const base = `${origin}/console/t/${t.tenantId}`;
		await page.goto(`${base}/users/xss-reset`);
		await page.selectOption("#factor", { label: "old phone (totp, active)" });
		await page.fill("#remove-reason", REASON);
		await navigate(() => page.click("#remove-factor"));
		expect(await page.textContent("#notice")).toBe("The factor was removed.");
		await page.fill("#reason", REASON);
		await navigate(() => page.click("#reset"));
		expect(await page.textContent("#notice")).toContain("All factors and recovery codes were removed");

		const pages = {
			user: `${base}/users/xss-user`,
			resetUser: `${base}/users/xss-reset`,
			events: `${base}/events?operator=ada`,
			eventsFilter: `${base}/events?${new URLSearchParams({ user: HOVER })}`,
			search: `${base}/users?${new URLSearchParams({ q: HOVER })}`,
			webhooks: `${base}/webhooks`,
			webhook: `${base}/webhooks/${hook.json.webhook.id}`,
			settings: `${base}/settings`,
		};
		// The same pages in a browser that ignores the CSP, so escaping alone is what is tested (the session copied over).
		const open = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
		try {
			await open.addCookies(await context.cookies());
			open.on("request", (request) => {
				const url = new URL(request.url());
				if (url.protocol !== "data:" && url.origin !== origin) seen.push(`request to ${url.origin}`);
			});
			const xss = await open.newPage();
			xss.on("dialog", (dialog) => {
				dialogs.push(dialog.message());
				void dialog.dismiss();
			});

			// Controls: each detector finds the payloads when a page sends them unescaped.
			const user = await probeUnescaped(xss, pages.user);
			for (const sign of ["window.__pwned = 1", "an inline script element", "a handler: img[onerror]", "a dialog: 1"]) expect(user).toContain(sign);
			// Only a hover can set it here: the page holds nothing but the attribute break-out in the search field.
			const hovered = await probeUnescaped(xss, pages.search);
			expect(hovered).toContain("a handler: input[onmouseover]");
			expect(hovered).toContain("window.__pwned = 1");
			expect(hovered).not.toContain("an inline script element");
			expect(await probeUnescaped(xss, pages.events)).toContain("a javascript: URL: a[href]");
			// With the CSP on, the same unescaped page runs nothing, but the browser reports the refusal, which `seen` collects.
			const csp = await probeUnescaped(page, pages.user);
			expect(csp).toContain("an inline script element");
			expect(csp).not.toContain("window.__pwned");
			expect(csp).not.toContain("a dialog");
			expect(seen.filter((entry) => !/Content Security Policy/.test(entry))).toEqual([]);
			expect(seen.length).toBeGreaterThan(0);
			seen.length = 0;

			for (const [name, url] of Object.entries(pages)) {
				expect(await probe(page, url), `${name}, with the CSP`).toEqual([]);
				expect(await probe(xss, url), `${name}, without the CSP`).toEqual([]);
				// And the text is shown as typed (the page xss is on now, every event expanded).
				const reasons = async () => (await xss.locator("main pre").allTextContents()).filter((text) => text.includes(JSON.stringify(REASON))).length;
				if (name === "user") expect((await xss.locator("#factors tbody td:nth-child(2)").allTextContents()).sort()).toEqual([SCRIPT, HOVER, IMG].sort());
				if (name === "resetUser") expect(await reasons()).toBe(2);
				if (name === "events") {
					expect(await reasons()).toBe(2);
					expect(await xss.locator("main details[open]").count()).toBe(await xss.locator("main details").count());
				}
				if (name === "eventsFilter") expect(await xss.inputValue("#user")).toBe(HOVER);
				if (name === "search") expect(await xss.inputValue("#q")).toBe(HOVER);
				if (name === "webhooks") expect(await xss.locator("#webhooks a", { hasText: "onmouseover" }).textContent()).toBe(hookURL);
				if (name === "webhook") expect(await xss.textContent("#webhook-url")).toBe(hookURL);
				if (name === "settings") {
					expect(await xss.inputValue("#support_text")).toBe(supportText);
					expect(await xss.textContent("#all-settings")).toContain(JSON.stringify(supportText));
				}
			}
		} finally {
			await open.close();
		}
		expect(seen).toEqual([]);
	});
});
