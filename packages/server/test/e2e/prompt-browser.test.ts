import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import * as client from "openid-client";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACR } from "../../src/core/assertion-claims.js";
import { buildTestApp, enrollActive, nextStep, type TestApp } from "../helpers.js";
import { hasTool } from "./process.js";
import { type Application, startApplication } from "./prompt-browser-application.js";
import { Screenshots } from "./prompt-browser-screenshots.js";

const CHROMIUM = hasTool("chromium", "chromium");
const OATHTOOL = hasTool("oathtool", "oathtool");
const ZBARIMG = hasTool("zbarimg", "zbar-tools");
/** The flags TOOLS.md gives for Debian Chromium on these machines (as test/e2e/browser.test.ts). */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const DESKTOP = { width: 1280, height: 800 };

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

	async function open(flow: Flow): Promise<{ context: BrowserContext; page: Page }> {
		const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
		const page = await context.newPage();
		await page.goto(flow.url.href);
		expect(new URL(page.url()).pathname).toMatch(new RegExp(`^/t/${t.tenantId}/interaction/[A-Za-z0-9_-]+$`));
		return { context, page };
	}

	/** Waits for the browser to land on the application's redirect URI; returns what it brought. */
	async function landed(page: Page): Promise<URL> {
		await page.waitForURL((url) => url.href.startsWith(shop.redirectUri), { timeout: 15_000 });
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
		await context.close();
	});
});
