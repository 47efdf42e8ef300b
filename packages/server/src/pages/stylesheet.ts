/**
 * The prompt's one stylesheet (served at /prompt/assets/prompt.css). Custom properties, so a tenant's colour is
 * one declaration in its own theme sheet (themeStylesheet); logical properties (margin-inline, padding-block…), so
 * a right-to-left locale needs no second sheet; system fonts; readable at 320 px and 200 % zoom; visible focus;
 * an error is a word and an outline, not only a colour; dark mode and reduced motion respected. Reflow at 320 px
 * (WCAG 1.4.10): long words (German compounds in headings and labels) break rather than push the page sideways,
 * grid text columns may shrink below their longest word (minmax(0,…)), and a factor's facts stack on a phone.
 */
export const STYLESHEET = `:root{--brand:#1d4ed8;--on-brand:#fff;--text:#111827;--muted:#4b5563;--bg:#fff;--panel:#f3f4f6;--border:#6b7280;--error:#b91c1c;--focus:#fbbf24;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--text:#f3f4f6;--muted:#d1d5db;--bg:#111827;--panel:#1f2937;--border:#9ca3af;--error:#fca5a5}}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;font-size:100%;line-height:1.5;color:var(--text);background:var(--bg);-webkit-text-size-adjust:100%;overflow-wrap:break-word}
body{margin:0}
.masthead{display:flex;align-items:center;gap:.75rem;padding-block:.75rem;padding-inline:1rem;border-block-end:4px solid var(--brand)}
.logo{max-block-size:40px;inline-size:auto}
.client-logo{max-block-size:24px;inline-size:auto;vertical-align:middle;margin-inline-end:.5rem}
.tenant-name{font-weight:700;font-size:1.125rem;overflow-wrap:anywhere}
.page{max-inline-size:36rem;margin-inline:auto;padding-block:1rem 3rem;padding-inline:1rem}
.asks{color:var(--muted);overflow-wrap:anywhere}
h1{font-size:1.75rem;line-height:1.2;margin-block:.5rem 1rem;hyphens:auto}
h2{font-size:1.25rem;margin-block:1.5rem .5rem}
.lead{font-size:1.125rem}
.hint{color:var(--muted);margin-block:0 .5rem}
.field{margin-block:1rem 1.25rem;border:0;padding:0}
.field-error{border-inline-start:5px solid var(--error);padding-inline-start:.75rem}
label,legend{display:block;font-weight:700;margin-block-end:.25rem}
.input{display:block;inline-size:100%;max-inline-size:24rem;font:inherit;font-size:1.25rem;padding:.5rem;border:2px solid var(--border);border-radius:0;background:var(--bg);color:var(--text)}
.input-code{max-inline-size:12rem;letter-spacing:.15em;font-variant-numeric:tabular-nums}
.field-error .input{border-color:var(--error);border-width:3px}
.error-message{color:var(--error);font-weight:700;margin-block:0 .5rem}
.error-summary{border:4px solid var(--error);padding:1rem;margin-block:1rem}
.error-summary h2{margin-block-start:0}
.error-summary a{color:var(--error);font-weight:700}
.button{display:inline-block;font:inherit;font-weight:700;padding-block:.6rem;padding-inline:1.1rem;border:2px solid var(--brand);background:var(--brand);color:var(--on-brand);cursor:pointer;text-decoration:none;margin-block:.25rem;margin-inline-end:.5rem}
.button-secondary{background:var(--panel);color:var(--text);border-color:var(--border)}
.button-warning{background:var(--bg);color:var(--error);border-color:var(--error)}
.button-small{padding-block:.2rem;padding-inline:.6rem;font-size:.875rem}
.button-link{font:inherit;background:none;border:0;padding:0;color:inherit;text-decoration:underline;cursor:pointer}
a{color:inherit;text-decoration-thickness:1px;text-underline-offset:.15em}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px;box-shadow:0 0 0 6px var(--text)}
.error-summary:focus{outline:3px solid var(--focus)}
.action{background:var(--panel);border-inline-start:5px solid var(--border);padding:.75rem 1rem;margin-block:1rem}
.action h2{margin-block:0 .25rem;font-size:1rem}
.action-description{font-size:1.125rem;white-space:pre-wrap;overflow-wrap:anywhere}
.links{padding-inline-start:1.25rem}
.cancel{margin-block-start:2rem}
.choice{display:grid;grid-template-columns:auto minmax(0,1fr);column-gap:.5rem;margin-block:.75rem}
.choice input{inline-size:1.5rem;block-size:1.5rem;margin:0}
.choice .hint,.choice .error-message{grid-column:2}
.qr{display:block;inline-size:220px;max-inline-size:100%;block-size:auto;background:#fff;padding:8px}
.secret{font-size:1.125rem;overflow-wrap:anywhere;font-family:ui-monospace,"SF Mono",Menlo,Consolas,monospace}
.key-facts dt{font-weight:700}
.key-facts dd{margin-inline-start:0;margin-block-end:.5rem;overflow-wrap:anywhere}
.codes{columns:2;column-gap:2rem;font-family:ui-monospace,"SF Mono",Menlo,Consolas,monospace;font-size:1.125rem;padding-inline-start:2rem}
.factors{list-style:none;padding:0}
.factor{border:1px solid var(--border);padding:1rem;margin-block:1rem}
.factor-name{margin-block:0 .5rem;overflow-wrap:anywhere}
.factor-facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.25rem 1rem;margin:0}
.factor-facts dt{font-weight:700}
.factor-facts dd{margin:0}
.inline-form{margin-block:.75rem}
.notice{border-inline-start:5px solid var(--brand);padding-inline-start:.75rem;font-weight:700}
.page-wide{max-inline-size:64rem}
.operator-bar{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:.5rem 1rem;color:var(--muted)}
.operator-bar p{margin:0}
.table{border-collapse:collapse;inline-size:100%;margin-block:.5rem 1rem}
.table-wrap{overflow-x:auto}
.table th,.table td{text-align:start;padding:.4rem .6rem;border-block-end:1px solid var(--border);vertical-align:top}
.check{display:flex;gap:.5rem;align-items:center}
.check label{font-weight:400}
.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.25rem 1rem}
.facts dt{font-weight:700}
.facts dd{margin:0}
.timeline{padding-inline-start:1.5rem}
.event-data{background:var(--panel);padding:.5rem;overflow-x:auto;font-size:.875rem}
.tenant-nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;padding:0}
.chart{margin:0 0 1rem}
.chart-bars{display:block;inline-size:100%;block-size:8rem;background:var(--panel)}
.chart-axis{stroke:var(--border);stroke-width:1}
.chart figcaption{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.25rem 1rem;font-size:.875rem;color:var(--muted)}
.chart-range{display:flex;justify-content:space-between;inline-size:100%}
.chart-legend{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0;color:var(--text)}
.chart-swatch{inline-size:.75rem;block-size:.75rem;margin-inline-end:.25rem;vertical-align:middle}
.bar-totp{fill:#1d4ed8}.bar-hotp{fill:#0891b2}.bar-webauthn{fill:#15803d}.bar-recovery{fill:#a16207}.bar-failed{fill:#b91c1c}.bar-replayed{fill:#7c3aed}.bar-lockouts{fill:#be185d}
@media (prefers-color-scheme:dark){.bar-totp{fill:#60a5fa}.bar-hotp{fill:#22d3ee}.bar-webauthn{fill:#4ade80}.bar-recovery{fill:#facc15}.bar-failed{fill:#f87171}.bar-replayed{fill:#c4b5fd}.bar-lockouts{fill:#f9a8d4}}
.gauges{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem;margin:0 0 1rem;padding:0}
.gauges div{background:var(--panel);padding:.5rem .75rem}
.gauges dt{font-size:.875rem;color:var(--muted)}
.gauges dd{margin:0;font-size:1.5rem;font-weight:700}
.visually-hidden{position:absolute!important;inline-size:1px!important;block-size:1px!important;overflow:hidden!important;clip:rect(0 0 0 0)!important;white-space:nowrap!important}
@media (max-width:30em){.codes{columns:1}.factor-facts{grid-template-columns:minmax(0,1fr)}.factor-facts dd{margin-block-end:.5rem}.button{display:block;inline-size:100%;text-align:center;margin-inline-end:0}}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important;scroll-behavior:auto!important}}
@media print{.masthead,.no-print,.cancel,.asks{display:none}.codes{columns:2}}
`;

/** Only #rrggbb: anything else (a url(), a ";", a "}") never reaches a stylesheet. */
export const BRAND_COLOUR = /^#[0-9a-fA-F]{6}$/;

/**
 * The tenant's colour, and a text colour that stays readable on it (WCAG relative luminance, the higher of black or
 * white contrast). Null when the tenant set none or set something that is not #rrggbb.
 */
export function themeStylesheet(colour: unknown): string | null {
	if (typeof colour !== "string" || !BRAND_COLOUR.test(colour)) return null;
	const channel = (hex: string): number => {
		const c = Number.parseInt(hex, 16) / 255;
		return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
	};
	const luminance = 0.2126 * channel(colour.slice(1, 3)) + 0.7152 * channel(colour.slice(3, 5)) + 0.0722 * channel(colour.slice(5, 7));
	const onBrand = (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? "#000" : "#fff";
	return `:root{--brand:${colour.toLowerCase()};--on-brand:${onBrand}}\n`;
}
