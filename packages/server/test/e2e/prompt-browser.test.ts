import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import * as client from "openid-client";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACR } from "../../src/core/assertion-claims.js";
import { buildTestApp, enrollActive, nextStep, type TestApp } from "../helpers.js";
import { hasTool } from "./process.js";
import { type Application, startApplication } from "./prompt-browser-application.js";
import { DOCUMENTED, Screenshots, VIEWPORTS } from "./prompt-browser-screenshots.js";

const CHROMIUM = hasTool("chromium", "chromium");
const OATHTOOL = hasTool("oathtool", "oathtool");
const ZBARIMG = hasTool("zbarimg", "zbar-tools");
/** The flags TOOLS.md gives for Debian Chromium on these machines (as test/e2e/browser.test.ts). */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const DESKTOP = VIEWPORTS.desktop;

/**
 * The hosted prompt's pages driven end to end by Debian Chromium (issue 15): the test is the application's backend
 * (openid-client, configured from discovery, registers nothing but a client and pushes each authorization request),
 * Chromium opens /authorize?client_id&request_uri, goes through the real pages, and lands on the redirect URI served by
 * a loopback server of the test; the test then exchanges the code and checks the id_token. Codes come from oathtool at
 * the test clock's time, the enrollment's key from zbarimg reading a screenshot of the page, passkeys from the CDP
 * virtual authenticator. Every page and state is photographed at a desktop and a phone size (prompt-browser-screenshots.ts).
 * One browser and one Twofold (SQLite) for the file; each test its own browser context (its own cookies).
 */
describe.skipIf(!CHROMIUM || !OATHTOOL || !ZBARIMG)("the hosted prompt in Chromium", () => {
	let t: TestApp;
	let base: string;
	let issuer: string;
	let shop: Application;
	let config: client.Configuration;
	let browser: Browser;
	const shots = new Screenshots();

	/** The code an authenticator app shows at the test clock's time, a fresh step each call: oathtool, not our TOTP. */
	function oathtool(secret: string): string {
		nextStep(t.clock);
		const at = Math.floor(t.clock().getTime() / 1000);
		return execFileSync("oathtool", ["--totp", "-b", "-N", `@${at}`, secret.replace(/\s+/g, "")], { encoding: "utf8" }).trim();
	}

	interface Flow {
		url: URL;
		verifier: string;
		nonce: string;
		state: string;
	}

	/** The application's backend: PKCE, state, nonce, and the request pushed (PAR) with the user's id as login_hint. */
	async function push(userId: string, extra: Record<string, string> = {}): Promise<Flow> {
		const verifier = client.randomPKCECodeVerifier();
		const nonce = client.randomNonce();
		const state = client.randomState();
		const url = await client.buildAuthorizationUrlWithPAR(config, {
			redirect_uri: shop.redirectUri,
			scope: "openid",
			code_challenge: await client.calculatePKCECodeChallenge(verifier),
			code_challenge_method: "S256",
			nonce,
			state,
			login_hint: userId,
			...extra,
		});
		// Only client_id and request_uri travel through the browser (PAR, RFC 9126 §4).
		expect([...url.searchParams.keys()].sort()).toEqual(["client_id", "request_uri"]);
		return { url, verifier, nonce, state };
	}

	/** What each context's pages did that they must not: a request to another origin, a script error, a CSP violation. */
	const misdeeds = new WeakMap<BrowserContext, string[]>();

	async function open(flow: Flow, options: { javaScriptEnabled?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
		const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true, ...options });
		const seen: string[] = [];
		misdeeds.set(context, seen);
		// The prompt loads nothing from elsewhere; the only other origin the browser may reach is the application's redirect.
		const allowed = new Set([base, new URL(shop.redirectUri).origin]);
		context.on("request", (request) => {
			const url = new URL(request.url());
			if (url.protocol !== "data:" && !allowed.has(url.origin)) seen.push(`request to ${url.origin}`);
		});
		context.on("page", (opened) => watch(opened, seen));
		const page = await context.newPage();
		await page.goto(flow.url.href);
		expect(new URL(page.url()).pathname).toMatch(new RegExp(`^/t/${t.tenantId}/interaction/[A-Za-z0-9_-]+$`));
		return { context, page };
	}

	/** Waits for the browser to land on the application's redirect URI; returns what it brought. */
	async function landed(page: Page): Promise<URL> {
		try {
			await page.waitForURL((url) => url.href.startsWith(shop.redirectUri), { timeout: 15_000 });
		} catch (error) {
			// Say where the browser stopped instead (an error page, the provider's own page), not only that it timed out.
			throw new Error(`the browser did not reach the application; it is at ${page.url()}: ${(await page.textContent("body"))?.replace(/\s+/g, " ").trim().slice(0, 300)}`, { cause: error });
		}
		expect(await page.textContent("h1")).toBe("Back at the shop");
		return new URL(page.url());
	}

	/** The backend's half after the redirect: the code exchanged with the verifier, the id_token checked by openid-client. */
	async function exchange(flow: Flow, callback: URL) {
		expect(callback.searchParams.get("iss")).toBe(issuer);
		expect(callback.searchParams.get("state")).toBe(flow.state);
		const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state, idTokenExpected: true });
		return { claims: tokens.claims()!, assertion: (tokens as unknown as { twofold_assertion?: string }).twofold_assertion };
	}

	const title = (page: Page) => page.textContent("h1#page-title");

	function watch(page: Page, seen: string[]): void {
		page.on("pageerror", (error) => seen.push(`script error: ${error.message}`));
		page.on("console", (message) => {
			// A refused script or style (a broken nonce, an inline handler) shows here; an HTTP error status does too, and
			// the pages answer a wrong code with 422, which is not a fault.
			if (message.type() === "error" && !/the server responded with a status of (4\d\d)/.test(message.text())) seen.push(`console: ${message.text()}`);
		});
	}

	/** Closes a context after checking its pages stayed on their origins, ran their scripts cleanly and broke no CSP rule. */
	async function close(context: BrowserContext): Promise<void> {
		await context.close();
		expect(misdeeds.get(context)).toEqual([]);
	}

	beforeAll(async () => {
		t = await buildTestApp();
		// localhost, not 127.0.0.1: a secure context for WebAuthn and __Host- cookies (browsers accept Secure on http://localhost).
		await t.http.listen({ port: 0, host: "127.0.0.1" });
		base = `http://localhost:${(t.http.server.address() as AddressInfo).port}`;
		t.app.listeningAt(base);
		issuer = `${base}/t/${t.tenantId}`;
		shop = await startApplication();
		const created = await t.call("POST", "/v1/clients", { name: "Shop", redirect_uris: [shop.redirectUri] });
		expect(created.status, created.body).toBe(201);
		const patched = await t.call("PATCH", "/v1/tenant", {
			webauthn: { rp_id: "localhost", rp_name: "Acme", origins: [base] },
			branding: { display_name: "Acme", primary_color: "#0b5394" },
			prompt: { support_text: "Call Acme support on 0800 123 456, weekdays 9 to 5.", support_url: "https://support.example.com/2fa", recovery_requests: true },
		});
		expect(patched.status, patched.body).toBe(200);
		config = await client.discovery(new URL(issuer), created.json.client.client_id, undefined, client.ClientSecretBasic(created.json.client_secret), { execute: [client.allowInsecureRequests] });
		browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
	});
	afterAll(async () => {
		await browser?.close();
		await shop?.close();
		await t?.close();
		shots.finish();
	});

	it("enroll: the QR code read back by zbarimg, the key in groups of four, a code from oathtool; recovery codes shown once (copy, download, print, 'I have saved them'); back with acr otp", async () => {
		const flow = await push("erin", { intent: "enroll" });
		const { context, page } = await open(flow);
		await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
		expect(await title(page)).toBe("Set up two-step verification");
		await shots.take(page, "enroll-choice");
		await page.check("#kind-totp");
		await page.fill("#label", "Erin's phone");
		await page.click("#enroll-submit");
		await page.waitForSelector("#qr");
		expect(await title(page)).toBe("Set up your authenticator app");
		await shots.take(page, "enroll-app");

		// The QR code, read from a screenshot of the page itself (what a phone's camera would see).
		const screenshot = shots.scratch("enroll-qr.png");
		await page.screenshot({ path: screenshot });
		const uri = new URL(execFileSync("zbarimg", ["--raw", "-q", screenshot], { encoding: "utf8" }).trim());
		expect(uri.protocol).toBe("otpauth:");
		expect(uri.host).toBe("totp");
		const secret = uri.searchParams.get("secret")!;
		expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
		expect(decodeURIComponent(uri.pathname)).toContain("Erin's phone");

		// The same key for manual entry, in groups of four, with the issuer and account the QR code carries.
		await page.click("details.manual summary");
		const shown = (await page.textContent("#secret"))!;
		expect(shown).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
		expect(shown.replace(/ /g, "")).toBe(secret);
		expect(await page.textContent("#issuer")).toBe(uri.searchParams.get("issuer"));
		expect(decodeURIComponent(uri.pathname)).toContain((await page.textContent("#account"))!);
		await page.click('button[data-copy="#secret"]');
		expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
		await shots.take(page, "enroll-app-manual");

		// A wrong code first: refused with the field's error, nothing else changes.
		await page.fill("#code", "000000");
		await page.click("#confirm-submit");
		await page.waitForSelector("#error-summary");
		expect(await page.textContent("#code-error")).toContain("That code is not right");
		await shots.take(page, "enroll-app-error");
		await page.fill("#code", oathtool(secret));
		await page.click("#confirm-submit");

		// Recovery codes, shown once.
		await page.waitForSelector("#recovery-codes");
		expect(await title(page)).toBe("Save your recovery codes");
		const codes = (await page.locator("#recovery-codes li").allTextContents()).map((code) => code.trim());
		expect(codes).toHaveLength(10);
		expect(new Set(codes).size).toBe(10);
		await shots.take(page, "recovery-codes");
		await page.click('button[data-copy="#recovery-codes"]');
		expect((await page.evaluate(() => navigator.clipboard.readText())).split("\n")).toEqual(codes);
		const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-codes")]);
		expect(download.suggestedFilename()).toBe("recovery-codes.txt");
		const file = readFileSync((await download.path())!, "utf8");
		expect(file).toContain("Recovery codes for Acme");
		expect(file.trim().split(/\r\n/).slice(-10)).toEqual(codes);
		// Print: the button is wired to the browser's print (its dialog is the browser's), and the print layout keeps
		// only the codes, not the buttons and the form.
		await page.evaluate(() => {
			(window as unknown as { printed: number }).printed = 0;
			window.print = () => void (window as unknown as { printed: number }).printed++;
		});
		await page.click("button[data-print]");
		expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
		await page.emulateMedia({ media: "print" });
		expect(await page.isVisible("#recovery-codes")).toBe(true);
		expect(await page.isVisible("#saved-form")).toBe(false);
		expect(await page.isVisible("#download-codes")).toBe(false);
		await page.emulateMedia({ media: "screen" });

		// "I have saved them" is a required step: Continue without the tick is refused, and the codes stay.
		await page.click("#saved-submit");
		await page.waitForSelector("#error-summary");
		expect(await page.textContent("#saved-error")).toContain("Tick the box");
		expect((await page.locator("#recovery-codes li").allTextContents()).map((code) => code.trim())).toEqual(codes);
		await shots.take(page, "recovery-codes-error");
		await page.check("#saved");
		await page.click("#saved-submit");

		const { claims } = await exchange(flow, await landed(page));
		expect(claims).toMatchObject({ iss: issuer, sub: "erin", tid: t.tenantId, acr: ACR.otp, amr: ["otp"] });
		const factors = await t.call("GET", "/v1/users/erin/factors");
		expect(factors.json.factors).toMatchObject([{ type: "totp", status: "active", label: "Erin's phone" }]);
		// Shown once: the download is gone with the interaction.
		const again = await page.request.get(`${new URL(flow.url).origin}${new URL(download.url()).pathname}`);
		expect(again.status()).not.toBe(200);
		await close(context);
	});

	it("verify with TOTP: the code typed in the page's labelled one-time-code field; a wrong code first is refused on the field", async () => {
		const { secret } = await enrollActive(t, "alice");
		const flow = await push("alice");
		const { context, page } = await open(flow);
		expect(await title(page)).toBe("Confirm it's you");
		expect(await page.textContent("#asks")).toContain("Shop");
		// The field a password manager and a phone keyboard understand, with a visible label (GOV.UK security code pattern).
		const field = page.locator("#code");
		expect(await field.getAttribute("autocomplete")).toBe("one-time-code");
		expect(await field.getAttribute("inputmode")).toBe("numeric");
		expect(await field.getAttribute("maxlength")).toBeNull();
		expect(await page.textContent('label[for="code"]')).toBe("Code from your authenticator app");
		// Passkeys are offered only to users who have one.
		expect(await page.locator("#passkey").count()).toBe(0);
		await shots.take(page, "verify");

		await page.fill("#code", "123456");
		await page.click("#verify-submit");
		await page.waitForSelector("#error-summary");
		expect(await page.textContent("#code-error")).toContain("That code is not right");
		expect(await page.evaluate(() => document.activeElement?.id)).toBe("error-summary");
		await shots.take(page, "verify-error");
		// Typed with a space, as apps show it: the page takes it.
		const code = oathtool(secret);
		await page.fill("#code", `${code.slice(0, 3)} ${code.slice(3)}`);
		await page.click("#verify-submit");
		const { claims, assertion } = await exchange(flow, await landed(page));
		expect(claims).toMatchObject({ sub: "alice", acr: ACR.otp, amr: ["otp"], tid: t.tenantId });
		expect(typeof assertion).toBe("string");
		await close(context);
	});

	it("without JavaScript: a sign-in with a code works (every form posts); then another user in the same browser enrolls and goes straight back (no provider session left over); copy and print, which need script, stay hidden", async () => {
		const { secret } = await enrollActive(t, "noah");
		const flow = await push("noah");
		const { context, page } = await open(flow, { javaScriptEnabled: false });
		expect(await title(page)).toBe("Confirm it's you");
		await page.fill("#code", oathtool(secret));
		await page.click("#verify-submit");
		const { claims } = await exchange(flow, await landed(page));
		expect(claims).toMatchObject({ sub: "noah", acr: ACR.otp });

		// Another user in the same browser (a shared computer, or the application's next account): straight through the
		// pages and back, with no detour through the provider's logout form left by Noah's sign-in.
		const enroll = await push("nina", { intent: "enroll" });
		await page.goto(enroll.url.href);
		await page.check("#kind-totp");
		await page.click("#enroll-submit");
		await page.waitForSelector("#confirm-form");
		expect(await page.isHidden('button[data-copy="#secret"]')).toBe(true);
		const secretShown = (await page.locator("#secret").textContent())!.replace(/ /g, "");
		await page.fill("#code", oathtool(secretShown));
		await page.click("#confirm-submit");
		await page.waitForSelector("#recovery-codes");
		expect(await page.isHidden("button[data-copy]")).toBe(true);
		expect(await page.isHidden("button[data-print]")).toBe(true);
		expect(await page.isVisible("#download-codes")).toBe(true);
		await page.check("#saved");
		await page.click("#saved-submit");
		expect((await exchange(enroll, await landed(page))).claims).toMatchObject({ sub: "nina", acr: ACR.otp });
		await close(context);
	});

	it("enroll another (intent enroll, a user who has a factor): a fresh proof first (R-LC-1), then the new factor's setup; back with the new factor's proof", async () => {
		const first = await enrollActive(t, "emil");
		const flow = await push("emil", { intent: "enroll" });
		const { context, page } = await open(flow);
		// Adding a factor needs a proof from an existing one (R-LC-1).
		expect(await title(page)).toBe("Confirm it's you");
		await page.fill("#code", oathtool(first.secret));
		await page.click("#verify-submit");
		await page.waitForSelector("#enroll-form");
		expect(await title(page)).toBe("Add another way to confirm it's you");
		await shots.take(page, "enroll-another");
		await page.check("#kind-totp");
		await page.fill("#label", "Tablet");
		await page.click("#enroll-submit");
		await page.waitForSelector("#qr");
		const screenshot = shots.scratch("enroll-another-qr.png");
		await page.screenshot({ path: screenshot });
		const secret = new URL(execFileSync("zbarimg", ["--raw", "-q", screenshot], { encoding: "utf8" }).trim()).searchParams.get("secret")!;
		expect(secret).not.toBe(first.secret);
		await page.fill("#code", oathtool(secret));
		await page.click("#confirm-submit");
		// Not the first factor: no new recovery codes, straight back to the application.
		const { claims } = await exchange(flow, await landed(page));
		expect(claims).toMatchObject({ sub: "emil", acr: ACR.otp });
		const factors = (await t.call("GET", "/v1/users/emil/factors")).json.factors as Array<{ id: string; label: string; status: string }>;
		expect(factors).toHaveLength(2);
		expect(factors.every((f) => f.status === "active")).toBe(true);
		expect(factors.find((f) => f.id !== first.factorId)?.label).toBe("Tablet");
		await close(context);
	});

	it("verify with a passkey: set up through the prompt's passkey page with a CDP virtual authenticator, then used to sign in; acr phishing-resistant", async () => {
		// A sign-in (intent verify) for a user with no factor: the tenant's no_factor_policy "enroll" (the default) sends Pat to set one up.
		const enroll = await push("pat");
		const { context, page } = await open(enroll);
		const cdp = await context.newCDPSession(page);
		await cdp.send("WebAuthn.enable");
		const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
			options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
		});
		// Offered because the tenant's rp_id (localhost) covers the prompt and its origin is listed.
		expect(await title(page)).toBe("Set up two-step verification");
		await page.check("#kind-webauthn");
		await page.fill("#label", "Pat's laptop");
		await page.click("#enroll-submit");
		await page.waitForSelector("#passkey-create:not([hidden])");
		expect(await title(page)).toBe("Set up a passkey or security key");
		await shots.take(page, "enroll-passkey");
		await page.click("#passkey-create");
		await page.waitForSelector("#recovery-codes");
		const [credential] = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
		expect(credential).toMatchObject({ isResidentCredential: true, rpId: "localhost" });
		await page.check("#saved");
		await page.click("#saved-submit");
		const enrolled = await exchange(enroll, await landed(page));
		expect(enrolled.claims).toMatchObject({ sub: "pat", acr: ACR.phishingResistant });
		const factors = await t.call("GET", "/v1/users/pat/factors");
		expect(factors.json.factors).toMatchObject([{ type: "webauthn", status: "active", label: "Pat's laptop" }]);

		// Signing in: passkey first, one button; no code field, since Pat has no app.
		const flow = await push("pat");
		await page.goto(flow.url.href);
		await page.waitForSelector("#passkey:not([hidden])");
		expect(await page.locator("#code").count()).toBe(0);
		await shots.take(page, "verify-passkey");
		const before = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials[0]!.signCount;
		await page.click("#passkey");
		const { claims } = await exchange(flow, await landed(page));
		expect(claims).toMatchObject({ sub: "pat", acr: ACR.phishingResistant });
		expect((await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials[0]!.signCount).toBeGreaterThan(before);
		await close(context);
	});

	it("verify with a recovery code from the lost-access page; the code works once (R-RC-3)", async () => {
		const { recoveryCodes } = await enrollActive(t, "rita");
		const flow = await push("rita");
		const { context, page } = await open(flow);
		await page.click("#use-recovery");
		await page.waitForSelector("#recovery-code");
		expect(await title(page)).toBe("Lost access?");
		await page.fill("#recovery-code", recoveryCodes[0]!);
		await page.click("#recovery-submit");
		const { claims } = await exchange(flow, await landed(page));
		expect(claims).toMatchObject({ sub: "rita", acr: ACR.recoveryCode });

		// The same code again, in a new sign-in: refused on its field.
		const second = await push("rita");
		await page.goto(second.url.href);
		await page.click("#use-recovery");
		await page.fill("#recovery-code", recoveryCodes[0]!);
		await page.click("#recovery-submit");
		await page.waitForSelector("#error-summary");
		expect(await page.textContent("#recovery-code-error")).toContain("That recovery code is not right, or it has been used");
		expect(page.url().startsWith(shop.redirectUri)).toBe(false);
		await close(context);
	});

	it("manage: factors listed with names, kinds, added and last used; add another, rename, remove and new recovery codes each behind a fresh proof (R-LC-1, R-LC-4, R-RC-5); Done returns", async () => {
		const first = await enrollActive(t, "max", { label: "Max's phone" });
		const flow = await push("max", { intent: "manage" });
		const { context, page } = await open(flow);
		// A fresh proof first (a re-authentication, not a sign-in).
		expect(await title(page)).toBe("Confirm it's you");
		await page.fill("#code", oathtool(first.secret));
		await page.click("#verify-submit");
		await page.waitForSelector("#factors");
		expect(await title(page)).toBe("Your ways to confirm it's you");
		const phone = page.locator(`#factor-${first.factorId}`);
		expect(await phone.locator(".factor-name").textContent()).toBe("Max's phone");
		const facts = await phone.locator(".factor-facts dd").allTextContents();
		expect(facts[0]).toBe("Authenticator app");
		expect(facts[1]).toMatch(/UTC$/);
		// Used just now for the proof.
		expect(facts[2]).toMatch(/UTC$/);

		// Add another: the kind, then the app setup (the key read from the page this time), then back to the list.
		await page.click("#add-factor");
		await page.waitForSelector("#enroll-form");
		expect(await title(page)).toBe("Add another way to confirm it's you");
		await page.check("#kind-totp");
		await page.fill("#label", "Spare phone");
		await page.click("#enroll-submit");
		await page.waitForSelector("#secret", { state: "attached" });
		const spareSecret = (await page.textContent("#secret"))!.replace(/ /g, "");
		await page.fill("#code", oathtool(spareSecret));
		await page.click("#confirm-submit");
		await page.waitForSelector("#factors");
		const listed = await t.call("GET", "/v1/users/max/factors");
		const spare = listed.json.factors.find((f: { label: string }) => f.label === "Spare phone");
		expect(spare).toMatchObject({ type: "totp", status: "active" });
		await shots.take(page, "manage");

		// Rename.
		await page.fill(`#rename-${first.factorId}`, "Max's old phone");
		await page.locator(`#factor-${first.factorId} form:has(#rename-${first.factorId}) button`).click();
		await page.waitForSelector("#notice");
		expect(await page.textContent("#notice")).toBe("The factor is now called Max's old phone.");
		await shots.take(page, "manage-renamed");
		expect(await phone.locator(".factor-name").textContent()).toBe("Max's old phone");

		// Remove, behind a proof given now: a wrong code is refused and removes nothing.
		await page.click(`#remove-${spare.id}`);
		await page.waitForSelector("#change-form");
		expect(await title(page)).toBe("Confirm it's you to continue");
		expect(await page.textContent("p.lead")).toBe("To remove Spare phone, confirm it's you.");
		await shots.take(page, "manage-change-proof");
		await page.fill("#code", "000000");
		await page.click("#change-submit");
		await page.waitForSelector("#error-summary");
		expect((await t.call("GET", "/v1/users/max/factors")).json.factors).toHaveLength(2);
		await page.fill("#code", oathtool(first.secret));
		await page.click("#change-submit");
		await page.waitForSelector("#notice");
		expect(await page.textContent("#notice")).toBe("Spare phone was removed.");
		await shots.take(page, "manage-removed");
		expect(await page.locator(`#factor-${spare.id}`).count()).toBe(0);
		expect((await t.call("GET", "/v1/users/max/factors")).json.factors.map((f: { id: string }) => f.id)).toEqual([first.factorId]);

		// New recovery codes, behind a proof given now; the old ones stop working.
		await page.click("#regenerate");
		await page.waitForSelector("#change-form");
		expect(await page.textContent("p.lead")).toBe("To create new recovery codes, confirm it's you.");
		await page.fill("#code", oathtool(first.secret));
		await page.click("#change-submit");
		await page.waitForSelector("#recovery-codes");
		const fresh = (await page.locator("#recovery-codes li").allTextContents()).map((code) => code.trim());
		expect(fresh).toHaveLength(10);
		expect(fresh.some((code) => first.recoveryCodes.includes(code))).toBe(false);
		await page.check("#saved");
		await page.click("#saved-submit");
		await page.waitForSelector("#factors");
		const old = await t.call("POST", "/v1/users/max/verify", { code: first.recoveryCodes[1] });
		expect(old.json.error?.code ?? old.json.valid).toBe("invalid_code");

		await page.click("#done");
		const { claims } = await exchange(flow, await landed(page));
		expect(claims).toMatchObject({ sub: "max", acr: ACR.otp });
		await close(context);
	});

	it("lost access: the tenant's support text and link; 'ask for a reset' records user.recovery_requested and bypasses nothing", async () => {
		await enrollActive(t, "lucy");
		const flow = await push("lucy");
		const { context, page } = await open(flow);
		await page.click("#lost-access");
		await page.waitForSelector("#help");
		expect(await page.textContent("#support-text")).toBe("Call Acme support on 0800 123 456, weekdays 9 to 5.");
		expect(await page.getAttribute("#support-link", "href")).toBe("https://support.example.com/2fa");
		await shots.take(page, "lost-access");
		await page.click("#request-reset");
		await page.waitForSelector("#reset-requested");
		expect(await page.textContent("#reset-requested")).toContain("Shop's support team will contact you");
		await shots.take(page, "lost-access-requested");
		const events = await t.call("GET", "/v1/events?type=user.recovery_requested&user_id=lucy");
		expect(events.json.events).toHaveLength(1);
		expect(events.json.events[0]).toMatchObject({ user_id: "lucy", data: { active_factors: 1 } });

		// Nothing was bypassed: back on the interaction the second factor is still asked, the application got nothing,
		// and Lucy's factor is untouched.
		await page.click("#back");
		await page.waitForSelector("#code-form");
		expect(await title(page)).toBe("Confirm it's you");
		expect(shop.callbacks.filter((url) => url.searchParams.get("state") === flow.state)).toEqual([]);
		expect((await t.call("GET", "/v1/users/lucy/factors")).json.factors).toMatchObject([{ type: "totp", status: "active" }]);
		await close(context);
	});

	it("a locked user sees the lock: wrong codes typed in the page exhaust the budget, then the correct code is refused with the lock message (R-OTP-6)", async () => {
		const { secret } = await enrollActive(t, "lars");
		expect((await t.call("PATCH", "/v1/tenant", { attempts: { throttle_after: 10, lock_after: 3 } })).status).toBe(200);
		try {
			const flow = await push("lars");
			const { context, page } = await open(flow);
			for (let i = 0; i < 3; i++) {
				await page.fill("#code", "000000");
				await page.click("#verify-submit");
				await page.waitForSelector("#error-summary");
			}
			await page.fill("#code", oathtool(secret));
			const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/verify")), page.click("#verify-submit")]);
			expect(response.status()).toBe(423);
			await page.waitForSelector("#error-summary");
			expect(await page.textContent("#error-summary")).toContain("your account is locked for your protection. Contact Shop's support to unlock it.");
			await shots.take(page, "locked");
			expect(page.url().startsWith(shop.redirectUri)).toBe(false);
			const user = await t.call("GET", "/v1/users/lars");
			expect(user.json.locked).toBe(true);
			await close(context);
		} finally {
			await t.call("PATCH", "/v1/tenant", { attempts: { throttle_after: 5, lock_after: 100 } });
		}
	});

	it("in German when the application asks (ui_locales=de): lang on <html>, the page's words, and a sign-in that works the same", async () => {
		const { secret } = await enrollActive(t, "greta");
		const flow = await push("greta", { ui_locales: "de" });
		const { context, page } = await open(flow);
		expect(await page.getAttribute("html", "lang")).toBe("de");
		expect(await page.getAttribute("html", "dir")).toBe("ltr");
		expect(await title(page)).toBe("Bestätigen Sie, dass Sie es sind");
		expect(await page.textContent("#asks")).toBe("Shop bittet Sie, zu bestätigen, dass Sie es sind.");
		await shots.take(page, "verify-de");
		await page.fill("#code", oathtool(secret));
		await page.click("#verify-submit");
		expect((await exchange(flow, await landed(page))).claims).toMatchObject({ sub: "greta", acr: ACR.otp });
		await close(context);
	});

	it("the user cancels ('I'm not signing in'): back to the application with error=access_denied, and no code", async () => {
		await enrollActive(t, "carl");
		const flow = await push("carl");
		const { context, page } = await open(flow);
		const interaction = page.url();
		await page.click("#cancel");
		const callback = await landed(page);
		expect(callback.searchParams.get("error")).toBe("access_denied");
		expect(callback.searchParams.get("state")).toBe(flow.state);
		expect(callback.searchParams.get("iss")).toBe(issuer);
		expect(callback.searchParams.get("code")).toBeNull();
		await expect(client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state })).rejects.toMatchObject({
			error: "access_denied",
		});
		// The interaction is over: its page, opened again (the Back button), says so and offers nothing to submit.
		const response = await page.goto(interaction);
		expect(response?.status()).toBe(410);
		expect(await page.textContent("h1")).toBe("This request has expired");
		expect(await page.locator("form").count()).toBe(0);
		await shots.take(page, "expired");
		await close(context);
	});
});

/** docs/prompt.md shows screenshots this file takes: the names it links are the ones copied, and each file is there. */
describe("the prompt's documented screenshots", () => {
	it("docs/prompt.md links exactly the documented names at both sizes, and each file exists", () => {
		const docs = new URL("../../../../docs/", import.meta.url);
		const linked = [...readFileSync(new URL("prompt.md", docs), "utf8").matchAll(/\(prompt-screenshots\/([a-z-]+)-(desktop|phone)\.png\)/g)].map((match) => `${match[1]}-${match[2]}`);
		const expected = DOCUMENTED.flatMap((name) => Object.keys(VIEWPORTS).map((size) => `${name}-${size}`));
		expect([...linked].sort()).toEqual([...expected].sort());
		for (const name of expected) expect(existsSync(new URL(`prompt-screenshots/${name}.png`, docs)), name).toBe(true);
	});
});
