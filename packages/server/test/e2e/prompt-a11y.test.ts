import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STYLESHEET } from "../../src/pages/stylesheet.js";
import { png1x1 } from "../logo-fixtures.js";
import { buildTestApp, codeFor, enrollActive, nextStep, type TestApp } from "../helpers.js";
import { SoftwareAuthenticator } from "../software-authenticator.js";
import { axeViolations, type Violation } from "./axe.js";
import { hasTool } from "./process.js";

const CHROMIUM = hasTool("chromium", "chromium");
/** The flags TOOLS.md gives for Debian Chromium here (as test/e2e/logo-browser.test.ts): no sandbox as root, no background calls. */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
/** The issue's budget (issue 15, "Speed"): every page under 60 KB transferred, the passkey module aside. */
const PAGE_BUDGET_BYTES = 60_000;
const PASSKEY_MODULE = "/prompt/assets/passkey.js";

interface Fetched {
	url: string;
	bytes: number;
	finished: boolean;
}

/**
 * A browser tab that records, through CDP, every request Chromium makes and the bytes it transferred for each
 * (Network.loadingFinished encodedDataLength: headers and body as they came over the wire), with the cache off so
 * every page pays for its stylesheet and scripts as a first visit does.
 */
class Tab {
	readonly all: Fetched[] = [];
	private readonly byId = new Map<string, Fetched>();
	private since = 0;

	private constructor(
		readonly context: BrowserContext,
		readonly page: Page,
	) {}

	static async open(browser: Browser, locale: string): Promise<Tab> {
		const context = await browser.newContext({ locale: locale === "de" ? "de-DE" : "en-GB", viewport: SIZES.desktop });
		const page = await context.newPage();
		const cdp = await context.newCDPSession(page);
		const tab = new Tab(context, page);
		cdp.on("Network.requestWillBeSent", (event) => {
			const previous = tab.byId.get(event.requestId);
			// A redirect reuses the request id: the 303's own bytes count, then the next hop is a new entry.
			if (previous !== undefined && event.redirectResponse !== undefined) {
				previous.bytes = event.redirectResponse.encodedDataLength;
				previous.finished = true;
			}
			const entry: Fetched = { url: event.request.url, bytes: 0, finished: false };
			tab.byId.set(event.requestId, entry);
			tab.all.push(entry);
		});
		cdp.on("Network.loadingFinished", (event) => {
			const entry = tab.byId.get(event.requestId);
			if (entry !== undefined) {
				entry.bytes = event.encodedDataLength;
				entry.finished = true;
			}
		});
		cdp.on("Network.loadingFailed", (event) => {
			const entry = tab.byId.get(event.requestId);
			if (entry !== undefined) entry.finished = true;
		});
		await cdp.send("Network.enable");
		await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
		return tab;
	}

	/** Starts a new page load's record: what happens from here is the next page's weight. */
	mark(): void {
		this.since = this.all.length;
	}

	/** Waits until the page has loaded and every request it started has finished. */
	async settle(): Promise<Fetched[]> {
		await this.page.waitForLoadState("load");
		for (let i = 0; i < 100 && this.all.slice(this.since).some((entry) => !entry.finished && !entry.url.startsWith("data:")); i++) await this.page.waitForTimeout(50);
		return this.all.slice(this.since);
	}

	async goto(url: string): Promise<void> {
		this.mark();
		await this.page.goto(url);
	}

	/** Clicks something that loads a page (a submit button, a link) and waits for that page. */
	async navigate(selector: string): Promise<void> {
		this.mark();
		await Promise.all([this.page.waitForNavigation(), this.page.click(selector)]);
	}

	async close(): Promise<void> {
		await this.context.close();
	}
}

/**
 * The hosted prompt's pages in Debian Chromium (issue 15, docs/UI.md "Checking pages"): axe-core on every page and
 * state in English and German at a desktop and a phone size; the verify flow by keyboard alone; each page's weight
 * and origins as Chromium loads them; right-to-left readiness; and framing by another origin refused. The pages are
 * the real ones on real HTTP (SQLite: nothing here depends on the store's dialect), reached by real authorization
 * requests (PAR, then /authorize) with the browser on http://localhost, a secure context, so passkeys are offered.
 */
describe.skipIf(!CHROMIUM)("the prompt's pages: accessibility, keyboard, weight, origins, framing (issue 15)", () => {
	let t: TestApp;
	let browser: Browser;
	let base: string;
	let loopback: string;
	let issuer: string;
	let clientId: string;
	let clientSecret: string;
	let port: number;
	/** The application: its callback is where a finished flow lands (another origin, on purpose: the prompt's end). */
	let application: Server;
	let REDIRECT: string;
	/** Twofold's answers to requests Chromium made for a frame (Sec-Fetch-Dest: iframe), for the framing test. */
	const framed: { url: string; status: number }[] = [];

	beforeAll(async () => {
		application = createServer((_request, response) => response.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>callback</title>"));
		await new Promise<void>((resolve) => application.listen(0, "127.0.0.1", resolve));
		REDIRECT = `http://127.0.0.1:${(application.address() as AddressInfo).port}/callback`;
		t = await buildTestApp();
		t.http.addHook("onResponse", async (request, reply) => {
			if (request.headers["sec-fetch-dest"] === "iframe") framed.push({ url: request.url, status: reply.statusCode });
		});
		await t.http.listen({ port: 0, host: "127.0.0.1" });
		port = (t.http.server.address() as AddressInfo).port;
		loopback = `http://127.0.0.1:${port}`;
		// localhost: a secure context for WebAuthn and __Host- cookies, and a name the tenant's rp_id can cover.
		base = `http://localhost:${port}`;
		t.app.listeningAt(base);
		issuer = `${base}/t/${t.tenantId}`;
		const patched = await t.call("PATCH", "/v1/tenant", {
			webauthn: { rp_id: "localhost", rp_name: "Acme", origins: [base] },
			attempts: { lock_after: 3 },
			branding: { display_name: "Acme Bank" },
			prompt: { support_text: "Call the Acme service desk on 0800 123 456, weekdays 8:00 to 18:00.", support_url: "https://support.example.com/2fa", recovery_requests: true, no_factor_policy: "enroll" },
		});
		expect(patched.status, patched.body).toBe(200);
		const created = await t.call("POST", "/v1/clients", { name: "Shop", redirect_uris: [REDIRECT] });
		expect(created.status, created.body).toBe(201);
		clientId = created.json.client.client_id;
		clientSecret = created.json.client_secret;
		browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
	});
	afterAll(async () => {
		await browser?.close();
		await t?.close();
		await new Promise((resolve) => application?.close(resolve));
	});

	/** A pushed authorization request, as the application's backend sends it; returns the URL the browser goes to. */
	async function authorizeURL(user: string, options: { intent?: "verify" | "enroll" | "manage"; locale?: string; extra?: Record<string, string> } = {}): Promise<string> {
		const verifier = randomBytes(32).toString("base64url");
		const params = new URLSearchParams({
			response_type: "code",
			client_id: clientId,
			scope: "openid",
			redirect_uri: REDIRECT,
			state: randomBytes(16).toString("base64url"),
			nonce: randomBytes(16).toString("base64url"),
			code_challenge: createHash("sha256").update(verifier).digest("base64url"),
			code_challenge_method: "S256",
			login_hint: user,
			...(options.intent === undefined ? {} : { intent: options.intent }),
			...(options.locale === undefined ? {} : { ui_locales: options.locale }),
			...options.extra,
		});
		const response = await fetch(`${loopback}/t/${t.tenantId}/par`, {
			method: "POST",
			headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
			body: params,
		});
		const body = (await response.json()) as { request_uri?: string };
		expect(response.status, JSON.stringify(body)).toBe(201);
		return `${issuer}/authorize?${new URLSearchParams({ client_id: clientId, request_uri: body.request_uri! })}`;
	}

	/** A user with an active TOTP factor and a passkey (registered through the API with a software authenticator at the prompt's origin). */
	async function userWithPasskey(user: string): Promise<{ secret: string }> {
		const { secret } = await enrollActive(t, user);
		nextStep(t.clock);
		const key = new SoftwareAuthenticator("localhost", base);
		const enrolled = await t.call("POST", `/v1/users/${user}/factors`, { type: "webauthn", label: "YubiKey", code: codeFor(secret, t.clock()) });
		expect(enrolled.status, enrolled.body).toBe(201);
		const confirmed = await t.call("POST", `/v1/users/${user}/factors/${enrolled.json.factor.id}/confirm`, { credential: key.register(enrolled.json.webauthn.options) });
		expect(confirmed.status, confirmed.body).toBe(200);
		return { secret };
	}

	/** A code the user's app shows now: the server's clock is the test clock, moved to a fresh step first. */
	const freshCode = (secret: string): string => {
		nextStep(t.clock);
		return codeFor(secret, t.clock());
	};

	/** Where keyboard focus is now: the element's id (or tag), and whether its focus is visible (an outline of 2px or more). */
	async function focused(page: Page): Promise<{ id: string; outline: boolean }> {
		return page.evaluate(() => {
			const element = document.activeElement;
			if (element === null || element === document.body) return { id: "body", outline: false };
			const style = getComputedStyle(element);
			return { id: element.id || element.tagName.toLowerCase(), outline: style.outlineStyle !== "none" && Number.parseFloat(style.outlineWidth) >= 2 };
		});
	}

	/** Presses Tab until the element with this id has focus; every stop on the way must show its focus. */
	async function tabTo(page: Page, id: string): Promise<string[]> {
		const stops: string[] = [];
		for (let i = 0; i < 40; i++) {
			await page.keyboard.press("Tab");
			const now = await focused(page);
			stops.push(now.id);
			expect(now.outline, `focus on ${now.id} has no visible outline`).toBe(true);
			if (now.id === id) return stops;
		}
		throw new Error(`Tab never reached #${id}: ${stops.join(" → ")}`);
	}

	it("keyboard only: Tab to the code, type, Enter; a wrong code's summary takes focus; Tab to the recovery link, Enter, type, Enter (docs/UI.md)", async () => {
		const user = await enrollActive(t, "keyboard");
		const tab = await Tab.open(browser, "en");
		try {
			const page = tab.page;
			await tab.goto(await authorizeURL("keyboard"));
			await tab.settle();
			const first = await tabTo(page, "code");
			// The code field comes early: at most the masthead's and the page's links before it.
			expect(first.length, first.join(" → ")).toBeLessThanOrEqual(3);
			await page.keyboard.type(codeFor(user.secret, t.clock()) === "000000" ? "111111" : "000000");
			await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
			await tab.settle();
			// The error is announced (role=alert) and takes focus, visibly, so a screen reader and a sighted user both meet it first.
			expect(await page.getAttribute("#error-summary", "role")).toBe("alert");
			await page.waitForFunction(() => document.activeElement?.id === "error-summary", undefined, { timeout: 5000 });
			expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe("none");
			await tabTo(page, "code");
			await page.keyboard.type(freshCode(user.secret));
			await Promise.all([page.waitForURL((url) => url.href.startsWith(REDIRECT)), page.keyboard.press("Enter")]);
			expect(new URL(page.url()).searchParams.get("code")).toMatch(/.+/);

			await tab.goto(await authorizeURL("keyboard"));
			await tab.settle();
			await tabTo(page, "use-recovery");
			await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
			await tab.settle();
			expect(page.url()).toMatch(/\/lost$/);
			await tabTo(page, "recovery-code");
			await page.keyboard.type(user.recoveryCodes[0]!);
			await Promise.all([page.waitForURL((url) => url.href.startsWith(REDIRECT)), page.keyboard.press("Enter")]);
			expect(new URL(page.url()).searchParams.get("code")).toMatch(/.+/);
			// The recovery code was really spent: the flow did not end some other way.
			const events = await t.call("GET", "/v1/events?user_id=keyboard&type=verification.succeeded&limit=10");
			expect(events.json.events.map((event: { data: { method?: string } }) => event.data.method)).toContain("recovery_code");
		} finally {
			await tab.close();
		}
	});

	it("right-to-left ready: the stylesheet uses logical properties only, and pages rendered with dir=rtl at 320 and 390 px do not overflow sideways", async () => {
		// Physical sides would stay put when the direction flips; logical ones (inline-start/end) follow it.
		const physical = STYLESHEET.match(/(?:margin|padding|border)-(?:left|right)\b|[{;](?:left|right)\s*:|text-align\s*:\s*(?:left|right)|float\s*:\s*(?:left|right)/g);
		expect(physical).toBeNull();
		const user = await enrollActive(t, "rtl");
		const tab = await Tab.open(browser, "en");
		try {
			const page = tab.page;
			const views: string[] = [];
			async function expectNoOverflow(name: string): Promise<void> {
				await tab.settle();
				await page.evaluate(() => {
					document.documentElement.dir = "rtl";
				});
				for (const width of [320, 390]) {
					await page.setViewportSize({ width, height: 844 });
					const size = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
					expect(size.scroll, `${name} at ${width}px`).toBeLessThanOrEqual(size.client);
				}
				views.push(name);
			}
			await tab.goto(await authorizeURL("rtl"));
			await page.fill("#code", codeFor(user.secret, t.clock()) === "000000" ? "111111" : "000000");
			await tab.navigate("#verify-submit");
			await expectNoOverflow("verify with an error");
			// The error's bar is on the inline start: the left in ltr, the right once the page is rtl.
			const bar = () => page.$eval(".field-error", (element) => ({ left: getComputedStyle(element).borderLeftWidth, right: getComputedStyle(element).borderRightWidth }));
			expect(await bar()).toEqual({ left: "0px", right: "5px" });
			await page.evaluate(() => {
				document.documentElement.dir = "ltr";
			});
			expect(await bar()).toEqual({ left: "5px", right: "0px" });
			await tab.navigate("#use-recovery");
			await expectNoOverflow("lost access");
			await tab.goto(await authorizeURL("rtl-new"));
			await page.check("#kind-totp");
			await tab.navigate("#enroll-submit");
			await page.click("details.manual summary");
			await expectNoOverflow("app setup");
			expect(views).toEqual(["verify with an error", "lost access", "app setup"]);
		} finally {
			await tab.close();
		}
	});

	it("framing: another origin's page that frames a prompt page gets nothing of it (CSP frame-ancestors 'none', X-Frame-Options DENY)", async () => {
		// The attacker is another origin on the same site (localhost, another port), so the browser sends the
		// prompt's SameSite=Lax cookies with the framed request: the server answers with the real page, and only
		// the browser's enforcement of the headers keeps it out of the frame.
		const attacker = createServer((request, response) => {
			const src = new URL(request.url ?? "/", "http://localhost").searchParams.get("src") ?? "";
			response.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><title>attacker</title><iframe id="victim" width="600" height="400" src="${src.replace(/"/g, "&quot;")}"></iframe>`);
		});
		await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
		const attackerBase = `http://localhost:${(attacker.address() as AddressInfo).port}`;
		const user = await enrollActive(t, "framed");
		const tab = await Tab.open(browser, "en");
		try {
			const page = tab.page;
			await tab.goto(await authorizeURL("framed"));
			await tab.settle();
			const interaction = page.url();
			expect(await page.isVisible("#code")).toBe(true);
			const frameOf = async (src: string) => {
				await page.goto(`${attackerBase}/?src=${encodeURIComponent(src)}`);
				await page.waitForLoadState("load");
				await page.waitForTimeout(300);
				return page.frames().find((frame) => frame !== page.mainFrame())!;
			};

			// A control first: a Twofold resource without frame headers (the discovery document) does load in the frame.
			const discovery = `${issuer}/.well-known/openid-configuration`;
			const control = await frameOf(discovery);
			expect(control.url()).toBe(discovery);
			expect(await control.textContent("body")).toContain(issuer);

			const before = framed.length;
			const frame = await frameOf(interaction);
			// The server did answer the framed request with the page itself (the cookies went with it)...
			expect(framed.slice(before).map((entry) => ({ path: entry.url, status: entry.status }))).toContainEqual({ path: new URL(interaction).pathname, status: 200 });
			// ...and the frame holds none of it: Chromium replaced it with its error page.
			expect(frame.url()).not.toBe(interaction);
			expect(await frame.$("#code")).toBeNull();
			expect(await frame.$("#page-title")).toBeNull();
			expect(await frame.$("input[name=csrf]")).toBeNull();
			// The same page, opened directly, still works: the refusal is the frame's, not the session's.
			await tab.goto(interaction);
			await tab.settle();
			await page.fill("#code", freshCode(user.secret));
			await Promise.all([page.waitForURL((url) => url.href.startsWith(REDIRECT)), page.click("#verify-submit")]);
		} finally {
			await tab.close();
			await new Promise((resolve) => attacker.close(resolve));
		}
	});

	describe.each(["en", "de"] as const)("every page and state (%s)", (locale) => {
		const found: Record<string, Violation[]> = {};
		const weights: { state: string; bytes: number; passkeyModule: number; urls: string[] }[] = [];
		const foreign: { state: string; url: string }[] = [];
		const checked: string[] = [];
		let tab: Tab;

		beforeAll(async () => {
			// English with the default look (no tenant colour, no logos); German with the tenant's colour and both logos
			// (the tenant's and the application's), so both themes and the images are checked.
			const branded = locale === "de";
			const patched = await t.call("PATCH", "/v1/tenant", { branding: { primary_color: branded ? "#0b5394" : null } });
			expect(patched.status, patched.body).toBe(200);
			for (const url of ["/v1/tenant/logo", `/v1/clients/${encodeURIComponent(clientId)}/logo`]) {
				const response = branded
					? await t.http.inject({ method: "PUT", url, headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "image/png" }, payload: png1x1() })
					: await t.http.inject({ method: "DELETE", url, headers: { authorization: `Bearer ${t.adminKey}` } });
				expect(response.statusCode, `${url}: ${response.body}`).toBeLessThan(300);
			}
			tab = await Tab.open(browser, locale);
		});
		afterAll(() => tab?.close());

		/**
		 * The page now shown, as one state: it is the page expected (its h1 and lang), its weight and origins as loaded,
		 * axe at both sizes, light and (desktop) dark, and no sideways scrolling at 320 px. Violations are collected, so
		 * one run lists them all.
		 */
		async function check(state: string, expectation: { title?: RegExp; selector?: string }): Promise<void> {
			const loaded = await tab.settle();
			const page = tab.page;
			expect(await page.getAttribute("html", "lang"), state).toBe(locale);
			if (expectation.title !== undefined) expect(await page.textContent("h1"), state).toMatch(expectation.title);
			if (expectation.selector !== undefined) expect(await page.isVisible(expectation.selector), `${state}: ${expectation.selector}`).toBe(true);
			const fetched = loaded.filter((entry) => !entry.url.startsWith("data:"));
			const counted = fetched.filter((entry) => new URL(entry.url).pathname !== PASSKEY_MODULE);
			weights.push({
				state,
				bytes: counted.reduce((sum, entry) => sum + entry.bytes, 0),
				passkeyModule: fetched.filter((entry) => new URL(entry.url).pathname === PASSKEY_MODULE).reduce((sum, entry) => sum + entry.bytes, 0),
				urls: counted.map((entry) => entry.url),
			});
			for (const entry of fetched) if (new URL(entry.url).origin !== base && !entry.url.startsWith(REDIRECT)) foreign.push({ state, url: entry.url });
			for (const [size, viewport] of Object.entries(SIZES)) {
				await page.setViewportSize(viewport);
				const violations = await axeViolations(page);
				if (violations.length > 0) found[`${state} @${size}`] = violations;
			}
			// Reflow (WCAG 1.4.10, which axe does not test): at 320 CSS px, as at 400 % zoom of 1280, nothing scrolls sideways.
			await page.setViewportSize({ width: 320, height: 640 });
			const width = await page.evaluate(() => {
				const client = document.documentElement.clientWidth;
				// The innermost elements that reach past the viewport, to name what is too wide.
				const wide = [...document.body.querySelectorAll("*")].filter((element) => element.getBoundingClientRect().right > client + 0.5 && ![...element.children].some((child) => child.getBoundingClientRect().right > client + 0.5));
				return { scroll: document.documentElement.scrollWidth, client, wide: wide.slice(0, 5).map((element) => `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ""}.${element.className}: ${Math.round(element.getBoundingClientRect().right)}px`) };
			});
			if (width.scroll > width.client) found[`${state} @320px`] = [{ id: "reflow", impact: "serious", help: `scrolls sideways: ${width.scroll} > ${width.client}`, nodes: width.wide }];
			await page.emulateMedia({ colorScheme: "dark" });
			await page.setViewportSize(SIZES.desktop);
			const dark = await axeViolations(page);
			if (dark.length > 0) found[`${state} @desktop dark`] = dark;
			await page.emulateMedia({ colorScheme: "light" });
			checked.push(state);
		}

		it("verify (code only; with an error; with an action; by passkey; locked) and lost access (support, reset offered, a wrong recovery code, reset sent)", async () => {
			const de = locale === "de";
			const alice = await enrollActive(t, `${locale}-alice`);
			await tab.goto(await authorizeURL(`${locale}-alice`, { locale }));
			await check("verify, code only", { title: de ? /Bestätigen/ : /Confirm it's you/, selector: "#code" });
			expect(await tab.page.$$eval("img.logo, img.client-logo", (images) => images.length)).toBe(de ? 2 : 0);
			expect(await tab.page.$("#passkey")).toBeNull();

			await tab.page.fill("#code", codeFor(alice.secret, t.clock()) === "000000" ? "111111" : "000000");
			await tab.navigate("#verify-submit");
			await check("verify, wrong code shown", { selector: "#error-summary" });
			expect(await tab.page.getAttribute("#code", "aria-invalid")).toBe("true");
			// Beside the field, the error starts with a word a screen reader says ("Error:"), hidden from sight.
			expect(await tab.page.textContent("#code-error")).toMatch(de ? /^Fehler: \S/ : /^Error: \S/);

			await tab.navigate("#use-recovery");
			await check("lost access, support and reset offered", { selector: "#support-link" });
			expect(await tab.page.textContent("#support-text")).toContain("0800 123 456");
			expect(await tab.page.isVisible("#request-reset")).toBe(true);
			await tab.page.fill("#recovery-code", "aaaa-bbbb-cccc-dddd");
			await tab.navigate("#recovery-submit");
			await check("lost access, wrong recovery code", { selector: "#recovery-code-error" });
			await tab.navigate("#request-reset");
			await check("lost access, reset sent", { selector: "#reset-requested" });

			// An action to approve, in the application's words, shown in its labelled box.
			const description = de ? "E-Mail-Adresse in alice@example.org ändern" : "Change your email address to alice@example.org";
			const authorization_details = JSON.stringify([{ type: "twofold_action", action: { type: "change_email", email: "alice@example.org" }, description }]);
			await tab.goto(await authorizeURL(`${locale}-alice`, { locale, extra: { authorization_details } }));
			await check("verify, with an action to approve", { selector: "#action-description" });
			expect(await tab.page.textContent("#action-description")).toBe(description);

			await userWithPasskey(`${locale}-pat`);
			await tab.goto(await authorizeURL(`${locale}-pat`, { locale }));
			// The passkey button is shown by the passkey module once it has found WebAuthn in the browser.
			await tab.page.waitForSelector("#passkey", { state: "visible" });
			await check("verify, passkey offered", { selector: "#passkey" });

			const locked = await enrollActive(t, `${locale}-locked`);
			for (let i = 0; i < 3; i++) {
				const wrong = codeFor(locked.secret, t.clock()) === "000000" ? "111111" : "000000";
				expect((await t.call("POST", `/v1/users/${locale}-locked/verify`, { code: wrong })).status).toBe(422);
			}
			await tab.goto(await authorizeURL(`${locale}-locked`, { locale }));
			await tab.settle();
			await tab.page.fill("#code", freshCode(locked.secret));
			await tab.navigate("#verify-submit");
			await check("verify, locked", { selector: "#error-summary" });
			expect(await tab.page.textContent("#error-summary")).toContain(de ? "gesperrt" : "locked");
		});

		it("enroll: choice (first), app setup (QR code and key), recovery codes; choice (another) and passkey setup", async () => {
			await tab.goto(await authorizeURL(`${locale}-new`, { locale }));
			await check("enroll choice, first factor", { selector: "#kind-totp" });
			await tab.page.check("#kind-totp");
			await tab.navigate("#enroll-submit");
			await tab.settle();
			// The key for manual entry sits in a <details>: opened, so axe sees it too.
			await tab.page.click("details.manual summary");
			await check("app setup, QR code and key", { selector: "#secret" });
			const secret = (await tab.page.textContent("#secret"))!.replace(/\s+/g, "");
			await tab.page.fill("#code", freshCode(secret));
			await tab.navigate("#confirm-submit");
			await check("recovery codes", { selector: "#recovery-codes" });
			await tab.navigate("#saved-submit");
			await check("recovery codes, not acknowledged", { selector: "#saved-error" });
			await tab.page.check("#saved");
			await tab.navigate("#saved-submit");
			expect(tab.page.url().startsWith(`${REDIRECT}?code=`), tab.page.url()).toBe(true);

			// A user with an app only: adding a passkey to a passkey would need a passkey's proof (stronger than a code).
			const pat = await enrollActive(t, `${locale}-pat2`);
			await tab.goto(await authorizeURL(`${locale}-pat2`, { intent: "enroll", locale }));
			await tab.settle();
			await tab.page.fill("#code", freshCode(pat.secret));
			await tab.navigate("#verify-submit");
			await check("enroll choice, another factor", { selector: "#kind-webauthn" });
			await tab.page.check("#kind-webauthn");
			await tab.navigate("#enroll-submit");
			await tab.page.waitForSelector("#passkey-create", { state: "visible" });
			await check("passkey setup", { selector: "#passkey-create" });
		});

		it("manage (the list; with a notice), the change's proof page, and the stop pages (expired, CSRF refused)", async () => {
			const pat = await userWithPasskey(`${locale}-pat3`);
			await tab.goto(await authorizeURL(`${locale}-pat3`, { intent: "manage", locale }));
			await check("verify before managing", { selector: "#code" });
			await tab.page.fill("#code", freshCode(pat.secret));
			await tab.navigate("#verify-submit");
			await check("manage", { selector: "#factors" });
			const renameField = tab.page.locator("form.inline-form input[name=label]").first();
			await renameField.fill("Work phone");
			tab.mark();
			await Promise.all([tab.page.waitForNavigation(), renameField.press("Enter")]);
			await check("manage, with a notice", { selector: "#notice" });
			await tab.navigate("button[id^=remove-]");
			await check("change proof", { selector: "#change-submit" });
			await tab.navigate("#change-submit");
			await check("change proof, code missing", { selector: "#error-summary" });

			await tab.goto(`${base}/t/${t.tenantId}/interaction/no-such-interaction`);
			await check("stop, expired", { selector: "#stop-body" });

			const alice = await enrollActive(t, `${locale}-csrf`);
			await tab.goto(await authorizeURL(`${locale}-csrf`, { locale }));
			await tab.settle();
			// A stale or foreign token, as after a restart of the browser's session: the form is refused with a page.
			await tab.page.evaluate(() => {
				document.querySelectorAll<HTMLInputElement>("input[name=csrf]").forEach((input) => {
					input.value = "not-this-session";
				});
			});
			await tab.page.fill("#code", codeFor(alice.secret, t.clock()));
			await tab.navigate("#verify-submit");
			await check("stop, CSRF refused", { selector: "#stop-body" });
		});

		it("control: the axe run used above does report violations when a page has them", async () => {
			await enrollActive(t, `${locale}-control`);
			await tab.goto(await authorizeURL(`${locale}-control`, { locale }));
			await tab.settle();
			expect(await axeViolations(tab.page)).toEqual([]);
			// Two faults of the kind the pages could have: an input without its label, and grey text on white.
			await tab.page.evaluate(() => {
				document.querySelector("label[for=code]")?.remove();
				document.querySelector<HTMLElement>(".lead")!.style.color = "#c0c0c0";
			});
			const ids = (await axeViolations(tab.page)).map((violation) => violation.id);
			expect(ids).toEqual(expect.arrayContaining(["label", "color-contrast"]));
		});

		it("no WCAG 2.1 A/AA violation in any of them, each under 60 KB without the passkey module, and no request to another origin", () => {
			expect(checked).toEqual([
				"verify, code only",
				"verify, wrong code shown",
				"lost access, support and reset offered",
				"lost access, wrong recovery code",
				"lost access, reset sent",
				"verify, with an action to approve",
				"verify, passkey offered",
				"verify, locked",
				"enroll choice, first factor",
				"app setup, QR code and key",
				"recovery codes",
				"recovery codes, not acknowledged",
				"enroll choice, another factor",
				"passkey setup",
				"verify before managing",
				"manage",
				"manage, with a notice",
				"change proof",
				"change proof, code missing",
				"stop, expired",
				"stop, CSRF refused",
			]);
			expect(found).toEqual({});
			console.info(`[prompt weight ${locale}] ${weights.map((w) => `${w.state}: ${w.bytes} B${w.passkeyModule > 0 ? ` (+ passkey module ${w.passkeyModule} B)` : ""}`).join("; ")}`);
			for (const weight of weights) {
				// The document and its stylesheet at least; a weight of nothing would mean the record missed the load.
				expect(weight.urls.length, weight.state).toBeGreaterThanOrEqual(2);
				expect(weight.bytes, weight.state).toBeGreaterThan(1000);
				expect(weight.bytes, `${weight.state}: ${weight.urls.join(", ")}`).toBeLessThan(PAGE_BUDGET_BYTES);
			}
			expect(foreign).toEqual([]);
		});
	});
});
