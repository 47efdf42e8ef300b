import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { translator, type Locale } from "../../src/pages/i18n.js";
import { renderDocument } from "../../src/pages/layout.js";
import { LostAccessPage } from "../../src/pages/lost-access-page.js";
import { VerifyPage, type VerifyPageData } from "../../src/pages/verify-page.js";
import type { PageContext } from "../../src/pages/view.js";
import { IN_CI } from "../helpers.js";
import { hasTool } from "../e2e/process.js";

/**
 * The email-code offer on the verify and lost-access pages (issue 15), rendered from plain data and read back by Debian
 * Chromium: the masked address only, a post (never a link a prefetch could follow) with the CSRF token, and once sent
 * a labelled one-time-code field first on the page, its error beside it. Over HTTP: test/http/prompt-email.test.ts.
 */
const CHROMIUM = hasTool("chromium", "chromium");
if (!CHROMIUM && IN_CI) throw new Error("Debian chromium is required under CI=true");
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const context = (locale: Locale): PageContext => ({
	locale,
	t: translator(locale),
	nonce: "n0nce",
	tenant: { name: "Acme", logoUrl: null },
	client: { name: "Shop", logoUrl: null },
	base: "/t/ten_1/interaction/uid_1",
	csrf: "csrf-token-value",
	assets: { stylesheet: "/prompt/assets/prompt.css", theme: null, script: "/prompt/assets/prompt.js", passkeyScript: "/prompt/assets/passkey.js" },
});

const verifyData = (overrides: Partial<VerifyPageData>): VerifyPageData => ({
	factors: [{ id: "fac_app", type: "totp", status: "active", label: "Phone", createdAt: 1, lastUsedAt: null }],
	passkey: null,
	totp: { digits: 6, period: 30 },
	action: null,
	errors: [],
	purpose: "verify",
	...overrides,
});

describe.skipIf(!CHROMIUM)("the email-code offer on the prompt's pages (issue 15)", () => {
	let browser: Browser;
	let page: Page;
	beforeAll(async () => {
		browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS });
		page = await browser.newPage();
		await page.route("**/*", (route) => route.fulfill({ status: 204, body: "" }));
	}, 60_000);
	afterAll(() => browser?.close());

	/** axe-core in the page: no WCAG 2.1 A/AA violation. */
	async function expectAccessible(): Promise<void> {
		await page.addScriptTag({ content: AXE });
		const violations = await page.evaluate(async () => {
			const result = await (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: Array<{ id: string; nodes: unknown[] }> }> } }).axe.run(document, {
				runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
			});
			return result.violations.map((v) => `${v.id} (${v.nodes.length})`);
		});
		expect(violations).toEqual([]);
	}

	for (const locale of ["en", "de"] as const) {
		const t = translator(locale);

		it(`verify (${locale}): not offered without an offer; offered as a post to /email naming the masked address`, async () => {
			await page.setContent(renderDocument(VerifyPage({ page: context(locale), data: verifyData({}) })));
			expect(await page.$("#email-send")).toBeNull();
			await page.setContent(renderDocument(VerifyPage({ page: context(locale), data: verifyData({ email: { maskedAddress: "a***@example.com", sent: false, minutes: 10 } }) })));
			expect(await page.textContent("#email-send")).toBe(t("verify.email_send", { address: "a***@example.com" }));
			expect(await page.getAttribute("#email-send-form", "action")).toBe("/t/ten_1/interaction/uid_1/email");
			expect(await page.getAttribute("#email-send-form", "method")).toBe("post");
			expect(await page.$eval("#email-send-form", (form) => (form as HTMLFormElement).elements.namedItem("csrf") && ((form as HTMLFormElement).elements.namedItem("csrf") as HTMLInputElement).value)).toBe("csrf-token-value");
			expect(await page.$("#email-code")).toBeNull();
			await expectAccessible();
		});

		it(`verify (${locale}): once sent, the code field comes first, labelled, one-time-code, numeric; its error sits beside it`, async () => {
			const email = { maskedAddress: "a***@example.com", sent: true, minutes: 10 };
			await page.setContent(renderDocument(VerifyPage({ page: context(locale), data: verifyData({ email, errors: [{ field: "email-code", key: "error.invalid_email_code" }] }) })));
			const forms = await page.$$eval("form", (nodes) => nodes.map((f) => f.id));
			expect(forms.indexOf("email-code-form")).toBeLessThan(forms.indexOf("code-form"));
			expect(await page.textContent("#email-heading")).toBe(t("verify.email_sent", { address: "a***@example.com", minutes: 10 }));
			expect(await page.textContent('label[for="email-code"]')).toBe(t("verify.email_code_label"));
			expect(await page.getAttribute("#email-code", "autocomplete")).toBe("one-time-code");
			expect(await page.getAttribute("#email-code", "inputmode")).toBe("numeric");
			expect(await page.getAttribute("#email-code", "name")).toBe("email_code");
			expect(await page.getAttribute("#email-code", "aria-invalid")).toBe("true");
			expect(await page.textContent("#email-code-error")).toContain(t("error.invalid_email_code"));
			expect(await page.textContent("#error-summary a[href='#email-code']")).toBe(t("error.invalid_email_code"));
			// No challenge id travels in the page: the session holds it.
			expect(await page.$$eval("input[name=challenge_id]", (nodes) => nodes.length)).toBe(0);
			expect(await page.textContent("#email-send")).toBe(t("verify.email_resend"));
			await expectAccessible();
		});

		it(`lost access (${locale}): offers the email code beside the recovery code`, async () => {
			const data = { support: { text: null, url: null }, resetRequest: "off" as const, errors: [], email: { maskedAddress: "a***@example.com", sent: false, minutes: 10 } };
			await page.setContent(renderDocument(LostAccessPage({ page: context(locale), data })));
			expect(await page.textContent("#email-send")).toBe(t("verify.email_send", { address: "a***@example.com" }));
			await page.setContent(renderDocument(LostAccessPage({ page: context(locale), data: { ...data, email: null } })));
			expect(await page.$("#email-send")).toBeNull();
		});
	}
});
