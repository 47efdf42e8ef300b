import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppSetupPage, EnrollChoicePage, groupsOfFour } from "../../src/pages/enroll-page.js";
import { translator, type Locale } from "../../src/pages/i18n.js";
import { renderDocument } from "../../src/pages/layout.js";
import { LostAccessPage } from "../../src/pages/lost-access-page.js";
import { ChangeProofPage, ManagePage } from "../../src/pages/manage-page.js";
import { RecoveryCodesPage } from "../../src/pages/recovery-codes-page.js";
import { VerifyPage } from "../../src/pages/verify-page.js";
import type { FactorView, PageContext } from "../../src/pages/view.js";
import { hasTool } from "../e2e/process.js";

/**
 * The prompt's pages rendered from plain data (issue 15) and read back by a real HTML parser: Debian Chromium
 * (playwright-core), with scripts enabled, so "rendered inert" means no script ran and no element carries a handler,
 * not merely that a substring is absent. Every label, autocomplete and error position is asserted in both locales.
 */
const CHROMIUM = hasTool("chromium", "chromium");
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const HOSTILE = `"><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">{client}</textarea><svg onload="window.__pwned=3">`;

function context(locale: Locale, overrides: Partial<PageContext> = {}): PageContext {
	return {
		locale,
		t: translator(locale),
		nonce: "n0nce",
		tenant: { name: "Acme", logoUrl: "/t/ten_1/logo" },
		client: { name: "Shop", logoUrl: null },
		base: "/t/ten_1/interaction/uid_1",
		csrf: "csrf-token-value",
		assets: { stylesheet: "/prompt/assets/prompt.css", theme: null, script: "/prompt/assets/prompt.js", passkeyScript: "/prompt/assets/passkey.js" },
		...overrides,
	};
}

const factors: FactorView[] = [
	{ id: "fac_app", type: "totp", status: "active", label: "Phone", createdAt: Date.UTC(2026, 0, 2), lastUsedAt: null },
	{ id: "fac_key", type: "webauthn", status: "active", label: "YubiKey", createdAt: Date.UTC(2026, 0, 3), lastUsedAt: Date.UTC(2026, 1, 1) },
];

describe.skipIf(!CHROMIUM)("prompt pages rendered and parsed in Chromium (issue 15)", () => {
	let browser: Browser;
	let page: Page;

	beforeAll(async () => {
		browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS });
		page = await browser.newPage();
		// Nothing leaves: the pages' same-origin assets and images are answered empty, anything else fails the test.
		await page.route("**/*", (route) => route.fulfill({ status: 204, body: "" }));
	}, 60_000);
	afterAll(() => browser?.close());

	async function load(html: string): Promise<void> {
		await page.setContent(html, { waitUntil: "load" });
	}

	/** No script ran, the only scripts are our nonce'd modules, and no element has an inline handler. */
	async function expectInert(): Promise<void> {
		expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
		const scripts = await page.$$eval("script", (nodes) => nodes.map((n) => ({ src: n.getAttribute("src"), nonce: n.nonce, type: n.type })));
		for (const script of scripts) expect(script).toMatchObject({ type: "module", nonce: "n0nce" });
		expect(scripts.map((s) => s.src).every((src) => src !== null && src.startsWith("/prompt/assets/"))).toBe(true);
		const handlers = await page.$$eval("*", (nodes) => nodes.flatMap((n) => [...n.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${n.tagName}@${a.name}`)));
		expect(handlers).toEqual([]);
		expect(await page.$$eval("svg, iframe, object, embed, style", (nodes) => nodes.length)).toBe(0);
	}

	/** Every visible input has a <label for> with text, and every form posts with the CSRF token. */
	async function expectLabelledForms(): Promise<void> {
		const unlabelled = await page.$$eval("input:not([type=hidden])", (inputs) =>
			inputs.filter((input) => !(input.id && document.querySelector(`label[for="${input.id}"]`)?.textContent?.trim())).map((i) => i.outerHTML),
		);
		expect(unlabelled).toEqual([]);
		const forms = await page.$$eval("form", (nodes) => nodes.map((f) => ({ method: f.method, csrf: (f.elements.namedItem("csrf") as HTMLInputElement | null)?.value })));
		expect(forms.length).toBeGreaterThan(0);
		for (const form of forms) expect(form).toEqual({ method: "post", csrf: "csrf-token-value" });
	}

	for (const locale of ["en", "de"] as const) {
		const t = translator(locale);

		it(`verify (${locale}): lang and dir, who asks, passkey first, a labelled one-time-code field with no truncating maxlength`, async () => {
			await load(
				renderDocument(
					VerifyPage({
						page: context(locale),
						data: { factors, passkey: { options: { challenge: "abc" }, challengeId: "chl_1" }, totp: { digits: 6, period: 30 }, action: null, errors: [], purpose: "verify" },
					}),
				),
			);
			expect(await page.getAttribute("html", "lang")).toBe(locale);
			expect(await page.getAttribute("html", "dir")).toBe("ltr");
			expect(await page.title()).toBe(t("layout.title", { page: t("verify.title"), tenant: "Acme" }));
			expect(await page.textContent("#asks")).toContain(t("layout.asks", { client: "Shop" }));
			const code = page.locator("#code");
			expect(await code.getAttribute("autocomplete")).toBe("one-time-code");
			expect(await code.getAttribute("inputmode")).toBe("numeric");
			expect(await code.getAttribute("maxlength")).toBeNull();
			expect(await page.textContent('label[for="code"]')).toBe(t("verify.code_label"));
			// The passkey form comes before the code form.
			const order = await page.$$eval("form", (forms) => forms.map((f) => f.id));
			expect(order.indexOf("passkey-form")).toBeLessThan(order.indexOf("code-form"));
			expect(await page.getAttribute("#passkey", "data-passkey")).toBe("authenticate");
			expect(JSON.parse((await page.getAttribute("#passkey", "data-options"))!)).toEqual({ challenge: "abc" });
			expect(await page.getAttribute("input[name=challenge_id]", "value")).toBe("chl_1");
			expect(await page.getAttribute("#use-recovery", "href")).toBe("/t/ten_1/interaction/uid_1/lost");
			expect(await page.textContent("#cancel")).toBe(t("verify.cancel"));
			await expectLabelledForms();
			await expectInert();
		});

		it(`verify (${locale}): a wrong code is in the summary at the top (linking the field) and beside the field`, async () => {
			await load(
				renderDocument(
					VerifyPage({
						page: context(locale),
						data: { factors: [factors[0]!], passkey: null, totp: { digits: 6, period: 30 }, action: null, errors: [{ field: "code", key: "error.invalid_code" }], purpose: "verify" },
					}),
				),
			);
			const first = await page.$eval("main", (main) => main.querySelector("p.asks + *")?.id);
			expect(first).toBe("error-summary");
			expect(await page.textContent("#error-summary a[href='#code']")).toBe(t("error.invalid_code"));
			expect(await page.textContent("#code-error")).toContain(t("error.invalid_code"));
			expect(await page.getAttribute("#code", "aria-invalid")).toBe("true");
			expect(await page.getAttribute("#code", "aria-describedby")).toContain("code-error");
			expect(await page.$("#passkey")).toBeNull();
		});

		it(`verify (${locale}): too many attempts says how long to wait; locked says what to do`, async () => {
			const data = (key: "error.too_many_attempts" | "error.locked", values: Record<string, string | number>) => ({
				factors: [factors[0]!],
				passkey: null,
				totp: { digits: 6, period: 30 },
				action: null,
				errors: [{ field: key === "error.locked" ? null : "code", key, values }],
				purpose: "verify" as const,
			});
			await load(renderDocument(VerifyPage({ page: context(locale), data: data("error.too_many_attempts", { seconds: 42 }) })));
			expect(await page.textContent("#error-summary")).toContain("42");
			await load(renderDocument(VerifyPage({ page: context(locale), data: data("error.locked", { client: "Shop" }) })));
			expect(await page.textContent("#error-summary")).toContain(t("error.locked", { client: "Shop" }));
		});

		it(`enroll (${locale}): the kinds as labelled radios, then the app setup with QR image, grouped key, issuer and account`, async () => {
			await load(renderDocument(EnrollChoicePage({ page: context(locale), data: { mode: "first", passkeyAvailable: true, errors: [] } })));
			expect(await page.textContent('label[for="kind-totp"]')).toBe(t("enroll.app"));
			expect(await page.textContent('label[for="kind-webauthn"]')).toBe(t("enroll.passkey"));
			await expectLabelledForms();
			const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>';
			await load(
				renderDocument(
					AppSetupPage({ page: context(locale), data: { qrSvg: svg, secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", issuer: "Acme", account: "alice", digits: 6, period: 30, errors: [] } }),
				),
			);
			expect(await page.getAttribute("#qr", "src")).toMatch(/^data:image\/svg\+xml;base64,/);
			expect(await page.getAttribute("#qr", "alt")).toBe(t("app.qr_alt", { account: "alice", issuer: "Acme" }));
			expect(await page.textContent("#secret")).toBe("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP");
			expect(await page.textContent("#issuer")).toBe("Acme");
			expect(await page.getAttribute("#code", "autocomplete")).toBe("one-time-code");
			await expectLabelledForms();
			await expectInert();
		});

		it(`recovery codes (${locale}): listed once, download is a same-origin link, an explicit acknowledgement`, async () => {
			const codes = ["aaaa-bbbb-cccc", "dddd-eeee-ffff"];
			await load(renderDocument(RecoveryCodesPage({ page: context(locale), data: { codes, errors: [{ field: "saved", key: "error.ack_required" }] } })));
			expect(await page.$$eval("#recovery-codes li", (items) => items.map((li) => li.textContent))).toEqual(codes);
			expect(await page.getAttribute("#download-codes", "href")).toBe("/t/ten_1/interaction/uid_1/recovery-codes.txt");
			expect(await page.textContent('label[for="saved"]')).toBe(t("codes.ack"));
			expect(await page.textContent("#saved-error")).toContain(t("error.ack_required"));
			await expectLabelledForms();
		});

		it(`manage and the change proof (${locale}): names, kinds, dates, remove and regenerate`, async () => {
			await load(renderDocument(ManagePage({ page: context(locale), data: { factors, canRename: true, notice: null, errors: [] } })));
			expect(await page.textContent("#factor-fac_app .factor-name")).toBe("Phone");
			expect(await page.textContent("#factor-fac_key")).toContain(t("kind.webauthn"));
			expect(await page.textContent("#factor-fac_app")).toContain(t("manage.never"));
			expect(await page.textContent("#remove-fac_key")).toBe(t("manage.remove", { name: "YubiKey" }));
			await expectLabelledForms();
			await load(renderDocument(ChangeProofPage({ page: context(locale), data: { change: { kind: "remove", factorId: "fac_key", name: "YubiKey" }, codeFactor: true, passkey: null, errors: [] } })));
			expect(await page.getAttribute("#change-form input[name=factor_id]", "value")).toBe("fac_key");
			expect(await page.getAttribute("#change-form", "action")).toBe("/t/ten_1/interaction/uid_1/manage/remove");
			await expectLabelledForms();
		});

		it(`lost access (${locale}): a recovery code field, the tenant's support text and link, and the reset request`, async () => {
			await load(renderDocument(LostAccessPage({ page: context(locale), data: { support: { text: "Call 555-0100", url: "https://help.example/" }, resetRequest: "offered", errors: [] } })));
			expect(await page.textContent('label[for="recovery-code"]')).toBe(t("lost.code_label"));
			expect(await page.textContent("#support-text")).toBe("Call 555-0100");
			expect(await page.getAttribute("#support-link", "href")).toBe("https://help.example/");
			expect(await page.$("#request-reset")).not.toBeNull();
			await expectLabelledForms();
		});
	}

	it("hostile tenant name, client name, action description, factor labels, support text and secret stay text: no script runs", async () => {
		const hostile = context("en", { tenant: { name: HOSTILE, logoUrl: null }, client: { name: HOSTILE, logoUrl: null } });
		const evil: FactorView[] = [{ ...factors[0]!, label: HOSTILE }];
		await load(
			renderDocument(VerifyPage({ page: hostile, data: { factors: evil, passkey: { options: { x: HOSTILE }, challengeId: HOSTILE }, totp: { digits: 6, period: 30 }, action: { description: HOSTILE }, errors: [{ field: "code", key: "error.locked", values: { client: HOSTILE } }], purpose: "verify" } })),
		);
		expect(await page.textContent("#action-description")).toBe(HOSTILE);
		expect(await page.textContent("#tenant-name")).toBe(HOSTILE);
		expect(await page.textContent("#action-heading")).toBe(`Request from ${HOSTILE}`);
		expect(JSON.parse((await page.getAttribute("#passkey", "data-options"))!)).toEqual({ x: HOSTILE });
		await expectInert();
		await load(renderDocument(ManagePage({ page: hostile, data: { factors: evil, canRename: true, notice: { key: "manage.removed", values: { name: HOSTILE } }, errors: [] } })));
		expect(await page.textContent("#notice")).toBe(`${HOSTILE} was removed.`);
		await expectInert();
		await load(renderDocument(LostAccessPage({ page: hostile, data: { support: { text: HOSTILE, url: null }, resetRequest: "sent", errors: [] } })));
		expect(await page.textContent("#support-text")).toBe(HOSTILE);
		await expectInert();
		await load(renderDocument(AppSetupPage({ page: hostile, data: { qrSvg: `<svg onload="window.__pwned=9"/>`, secret: HOSTILE, issuer: HOSTILE, account: HOSTILE, digits: 6, period: 30, errors: [] } })));
		// The QR SVG is an image (a data: URL in <img>), which cannot run script.
		expect(await page.textContent("#account")).toBe(HOSTILE);
		await expectInert();
	});

	it("groupsOfFour groups a base32 key for reading", () => {
		expect(groupsOfFour("ABCDEFGHIJ")).toBe("ABCD EFGH IJ");
	});
});
