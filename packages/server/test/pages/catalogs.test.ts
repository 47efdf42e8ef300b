import { describe, expect, it } from "vitest";
import { CATALOGS, chooseLocale, LOCALES, placeholdersOf, translator } from "../../src/pages/i18n.js";
import { en } from "../../src/pages/locales/en.js";

describe("prompt locale catalogs (issue 15)", () => {
	it("every catalog has every key of en, no other key, and the same {placeholders} in each message", () => {
		expect(LOCALES).toEqual(["en", "de"]);
		const keys = Object.keys(en).sort();
		for (const locale of LOCALES) {
			const catalog: Record<string, string> = CATALOGS[locale];
			expect(Object.keys(catalog).sort(), locale).toEqual(keys);
			for (const key of keys) {
				expect(catalog[key]!.trim().length, `${locale} ${key} is empty`).toBeGreaterThan(0);
				expect(placeholdersOf(catalog[key]!), `${locale} ${key}`).toEqual(placeholdersOf(en[key as keyof typeof en]));
			}
		}
	});

	it("German is not English copied: most messages differ", () => {
		const same = Object.keys(en).filter((key) => CATALOGS.de[key as keyof typeof en] === en[key as keyof typeof en] && placeholdersOf(en[key as keyof typeof en]).length === 0);
		// Only words that are the same in both (a name, "Name") may match.
		expect(same.length).toBeLessThan(3);
	});

	it("chooses ui_locales first, then Accept-Language by q, then the tenant default, then English; nothing else gets through", () => {
		expect(chooseLocale(["de"], "en", "en")).toBe("de");
		expect(chooseLocale(["fr", "de-CH"], "en", "en")).toBe("de");
		expect(chooseLocale([], "fr;q=1, de;q=0.8, en;q=0.5", "en")).toBe("de");
		expect(chooseLocale([], "en;q=0.1, de", "en")).toBe("de");
		expect(chooseLocale([], "de;q=0, fr", "de")).toBe("de");
		expect(chooseLocale([], "fr", "de")).toBe("de");
		expect(chooseLocale([], undefined, "xx")).toBe("en");
		// Hostile values never become a locale (they would reach lang=""): only a catalog's own name comes out.
		for (const hostile of ['"><script>alert(1)</script>', "__proto__", "constructor", "de\" onload=\"x", "toString"]) {
			expect(LOCALES).toContain(chooseLocale([hostile], hostile, hostile));
		}
	});

	it("fills placeholders with text as given (escaping is the renderer's), and leaves unknown ones visible", () => {
		const t = translator("en");
		expect(t("layout.asks", { client: "<b>Acme</b>" })).toBe("<b>Acme</b> asks you to confirm it's you.");
		expect(t("error.too_many_attempts", { seconds: 30 })).toContain("30 seconds");
		expect(translator("de")("error.too_many_attempts", { seconds: 30 })).toContain("30 Sekunden");
		expect(t("layout.asks")).toContain("{client}");
	});
});
