import { de } from "./locales/de.js";
import { en, type MessageKey } from "./locales/en.js";

/**
 * The prompt's locales and how one is chosen (issue 15): the first of the request's ui_locales the prompt has, then
 * the browser's Accept-Language by its q values, then the tenant's default. Only a locale from this table can come
 * out, so an attacker's ui_locales never reaches the page.
 */
export const CATALOGS = { en, de } as const satisfies Record<string, Record<MessageKey, string>>;
export type Locale = keyof typeof CATALOGS;
export const LOCALES = Object.keys(CATALOGS) as Locale[];

/** Right-to-left locales get dir="rtl" (none yet; the stylesheet uses logical properties, so adding one is a catalog). */
const RTL: ReadonlySet<string> = new Set(["ar", "fa", "he", "ur"]);
export const directionOf = (locale: Locale): "ltr" | "rtl" => (RTL.has(locale) ? "rtl" : "ltr");

const isLocale = (tag: string): tag is Locale => Object.hasOwn(CATALOGS, tag);

/** "de-CH" → "de": the prompt has no regional variants. */
function match(tag: string): Locale | undefined {
	const primary = tag.trim().toLowerCase().split(/[-_]/)[0] ?? "";
	return isLocale(primary) ? primary : undefined;
}

/** Accept-Language (RFC 9110 §12.5.4) by descending q, ties in order; malformed entries are skipped. */
function acceptedTags(header: string | undefined): string[] {
	if (header === undefined) return [];
	return header
		.slice(0, 512)
		.split(",")
		.map((part, index) => {
			const [tag = "", ...params] = part.split(";");
			const q = params.map((p) => /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
			return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), index };
		})
		.filter((entry) => entry.tag.length > 0 && entry.q > 0)
		.sort((a, b) => b.q - a.q || a.index - b.index)
		.map((entry) => entry.tag);
}

export function chooseLocale(uiLocales: readonly string[], acceptLanguage: string | undefined, tenantDefault: string | null | undefined): Locale {
	for (const tag of [...uiLocales.slice(0, 10), ...acceptedTags(acceptLanguage)]) {
		const found = match(tag);
		if (found !== undefined) return found;
	}
	return tenantDefault !== null && tenantDefault !== undefined && isLocale(tenantDefault) ? tenantDefault : "en";
}

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

/** A message with its {placeholders} filled. The values are text: escaping is the renderer's job, never done here. */
export function translator(locale: Locale): Translate {
	const catalog: Record<MessageKey, string> = CATALOGS[locale];
	return (key, values = {}) => catalog[key].replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? String(values[name]) : whole));
}

/** The {placeholders} a message uses, for the catalog test. */
export const placeholdersOf = (message: string): string[] => [...message.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

export type { MessageKey };
