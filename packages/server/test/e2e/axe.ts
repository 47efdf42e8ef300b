import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

/** axe-core from the lockfile, injected into each page as source (see axeViolations). */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
export const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

export interface Violation {
	id: string;
	impact: string | null;
	help: string;
	nodes: string[];
}

/**
 * axe-core's WCAG 2.1 A and AA rules on the page as it is now. The page's CSP (script-src with a nonce) would refuse
 * an injected <script>, so axe's source is evaluated through CDP (Runtime.evaluate, which CSP does not govern), in
 * the page's own world and with its real CSP in force: no bypassCSP anywhere.
 */
export async function axeViolations(page: Page): Promise<Violation[]> {
	if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
	return page.evaluate(async (tags) => {
		const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[]; failureSummary?: string }[] }[] }> } }).axe;
		const result = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
		return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary ?? ""}`) }));
	}, WCAG_TAGS);
}
