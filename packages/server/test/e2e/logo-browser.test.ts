import { createHash } from "node:crypto";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../helpers.js";
import { png1x1 } from "../logo-fixtures.js";
import { hasTool } from "./process.js";

const CHROMIUM = hasTool("chromium", "chromium");
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/**
 * Defence in depth for logos (issue 15): upload refuses anything but a well-formed raster image, and the public route
 * still serves what it stores so that a file that is more than an image runs nothing. Here a hostile row (HTML with a
 * script, labelled image/png) is written straight into the store, past the upload check, and opened in Chromium: the
 * declared type is kept (nosniff), the sandbox CSP gives the document an opaque origin, and the script never runs.
 */
describe.skipIf(!CHROMIUM)("a stored logo opened in Chromium runs nothing", () => {
	let t: TestApp;
	let base: string;
	let browser: Browser;
	const beacons: string[] = [];

	beforeAll(async () => {
		t = await buildTestApp();
		t.http.addHook("onRequest", async (request) => {
			if (request.url.startsWith("/beacon")) beacons.push(request.url);
		});
		base = await t.http.listen({ host: "127.0.0.1", port: 0 });
		browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
	});
	afterAll(async () => {
		await browser?.close();
		await t?.close();
	});

	it("HTML with a script stored as image/png: no script runs, the document's origin is opaque", async () => {
		const hostile = Buffer.from(
			`<!doctype html><html><head><title>page</title></head><body><script>document.title = "pwned"; fetch("/beacon-fetch"); new Image().src = "/beacon-img";</script><img src="/beacon-tag"></body></html>`,
		);
		await t.app.services.deps.store.logos.put({
			tenant_id: t.tenantId,
			owner: "tenant",
			content_type: "image/png",
			bytes: hostile,
			sha256: createHash("sha256").update(hostile).digest("hex"),
			updated_at: Date.now(),
		});
		const page = await browser.newPage();
		const response = await page.goto(`${base}/t/${t.tenantId}/logo`);
		expect(response?.headers()["content-type"]).toBe("image/png");
		await page.waitForTimeout(300);
		expect(await page.title()).not.toBe("pwned");
		// Chromium shows it as a (broken) image, never parses it as HTML.
		expect(await page.evaluate(() => document.contentType)).toBe("image/png");
		expect(await page.evaluate(() => document.querySelector("script"))).toBeNull();
		// The sandbox CSP: an opaque origin, so even a script could reach nothing of Twofold's.
		expect(await page.evaluate(() => window.origin)).toBe("null");
		expect(beacons).toEqual([]);
		await page.close();
	});

	it("a real logo displays as an image", async () => {
		const ctx = (await t.app.services.apiKeys.authenticate(t.adminKey))!;
		await t.app.services.logos.setLogo(ctx, "tenant", png1x1(), "image/png");
		const page = await browser.newPage();
		await page.goto(`${base}/t/${t.tenantId}/logo`);
		const size = await page.evaluate(() => {
			const image = document.querySelector("img");
			return image === null ? null : { width: image.naturalWidth, height: image.naturalHeight };
		});
		expect(size).toEqual({ width: 1, height: 1 });
		await page.close();
	});
});
