import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { type Browser, type BrowserContext, type CDPSession, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STYLESHEET } from "../../src/pages/stylesheet.js";
import { buildTestApp, codeFor, enrollActive, nextStep, type TestApp } from "../helpers.js";
import { SoftwareAuthenticator } from "../software-authenticator.js";
import { hasTool } from "./process.js";

const CHROMIUM = hasTool("chromium", "chromium");
/** The flags TOOLS.md gives for Debian Chromium here (as test/e2e/logo-browser.test.ts): no sandbox as root, no background calls. */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** axe-core from the lockfile, injected into each page as source (see axeViolations). */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
/** The issue's budget (issue 15, "Speed"): every page under 60 KB transferred, the passkey module aside. */
const PAGE_BUDGET_BYTES = 60_000;
const PASSKEY_MODULE = "/prompt/assets/passkey.js";

interface Violation {
	id: string;
	impact: string | null;
	help: string;
	nodes: string[];
}
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
		private readonly cdp: CDPSession,
	) {}

	static async open(browser: Browser, locale: string): Promise<Tab> {
		const context = await browser.newContext({ locale: locale === "de" ? "de-DE" : "en-GB", viewport: SIZES.desktop });
		const page = await context.newPage();
		const cdp = await context.newCDPSession(page);
		const tab = new Tab(context, page, cdp);
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
 * axe-core's WCAG 2.1 A and AA rules on the page as it is now. The page's CSP (script-src with a nonce) would refuse
 * an injected <script>, so axe's source is evaluated through CDP (Runtime.evaluate, which CSP does not govern), in
 * the page's own world and with its real CSP in force: no bypassCSP anywhere.
 */
async function axeViolations(page: Page): Promise<Violation[]> {
	if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
	return page.evaluate(async (tags) => {
		const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[]; failureSummary?: string }[] }[] }> } }).axe;
		const result = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
		return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary ?? ""}`) }));
	}, WCAG_TAGS);
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

	beforeAll(async () => {
		application = createServer((_request, response) => response.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>callback</title>"));
		await new Promise<void>((resolve) => application.listen(0, "127.0.0.1", resolve));
		REDIRECT = `http://127.0.0.1:${(application.address() as AddressInfo).port}/callback`;
		t = await buildTestApp();
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
			branding: { display_name: "Acme Bank", primary_color: "#0b5394" },
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
	async function authorizeURL(user: string, options: { intent?: "verify" | "enroll" | "manage"; locale?: string } = {}): Promise<string> {
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

	describe.each(["en", "de"] as const)("every page and state (%s)", (locale) => {
		const found: Record<string, Violation[]> = {};
		const weights: { state: string; bytes: number; passkeyModule: number; urls: string[] }[] = [];
		const foreign: { state: string; url: string }[] = [];
		const checked: string[] = [];
		let tab: Tab;

		beforeAll(async () => {
			tab = await Tab.open(browser, locale);
		});
		afterAll(() => tab?.close());

		/**
		 * The page now shown, as one state: it is the page expected (its h1 and lang), its weight and origins as loaded,
		 * and axe at both sizes, light and (desktop) dark. Violations are collected, so one run lists them all.
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
			await page.emulateMedia({ colorScheme: "dark" });
			await page.setViewportSize(SIZES.desktop);
			const dark = await axeViolations(page);
			if (dark.length > 0) found[`${state} @desktop dark`] = dark;
			await page.emulateMedia({ colorScheme: "light" });
			checked.push(state);
		}

		it("verify (code only; with an error; by passkey; locked) and lost access (support, reset offered, reset sent)", async () => {
			const de = locale === "de";
			const alice = await enrollActive(t, `${locale}-alice`);
			await tab.goto(await authorizeURL(`${locale}-alice`, { locale }));
			await check("verify, code only", { title: de ? /Bestätigen/ : /Confirm it's you/, selector: "#code" });
			expect(await tab.page.$("#passkey")).toBeNull();

			await tab.page.fill("#code", codeFor(alice.secret, t.clock()) === "000000" ? "111111" : "000000");
			await tab.navigate("#verify-submit");
			await check("verify, wrong code shown", { selector: "#error-summary" });
			expect(await tab.page.getAttribute("#code", "aria-invalid")).toBe("true");

			await tab.navigate("#use-recovery");
			await check("lost access, support and reset offered", { selector: "#support-link" });
			expect(await tab.page.textContent("#support-text")).toContain("0800 123 456");
			expect(await tab.page.isVisible("#request-reset")).toBe(true);
			await tab.navigate("#request-reset");
			await check("lost access, reset sent", { selector: "#reset-requested" });

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
				for (const input of document.querySelectorAll<HTMLInputElement>("input[name=csrf]")) input.value = "not-this-session";
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
				"lost access, reset sent",
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
