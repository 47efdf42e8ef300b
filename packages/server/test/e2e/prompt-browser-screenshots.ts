import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";

/** The two sizes every page is photographed at (docs/prompt-pages.md): a laptop and a phone. */
export const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

/** The screenshots docs/prompt.md shows (its Screenshots section names these files). */
export const DOCUMENTED = ["verify", "verify-error", "locked", "enroll-app", "recovery-codes", "manage", "lost-access"] as const;

const DEFAULT_FOLDER = new URL("./.screenshots/", import.meta.url).pathname;
const DOCS_FOLDER = new URL("../../../../docs/prompt-screenshots/", import.meta.url).pathname;

/**
 * Screenshots of the prompt's pages, each at both sizes, into TWOFOLD_SCREENSHOTS or test/e2e/.screenshots/ (which
 * gets a .gitignore of its own, so a run leaves nothing to commit). With TWOFOLD_UPDATE_DOC_SCREENSHOTS=1, the
 * documented ones are copied into docs/prompt-screenshots/ at the end of the run; otherwise docs are never written.
 */
export class Screenshots {
	readonly folder: string;
	readonly taken: string[] = [];

	/**
	 * `documented`: the names the docs show; `docsFolder`: where TWOFOLD_UPDATE_DOC_SCREENSHOTS=1 copies them (the
	 * prompt's by default; the console's test gives its own).
	 */
	constructor(
		folder = process.env.TWOFOLD_SCREENSHOTS,
		readonly documented: readonly string[] = DOCUMENTED,
		readonly docsFolder: string = DOCS_FOLDER,
	) {
		this.folder = folder === undefined || folder === "" ? DEFAULT_FOLDER : folder;
		mkdirSync(this.folder, { recursive: true });
		if (this.folder === DEFAULT_FOLDER && !existsSync(join(this.folder, ".gitignore"))) writeFileSync(join(this.folder, ".gitignore"), "*\n");
	}

	/** A path in the folder for a file the test reads back (not a page's picture). */
	scratch(name: string): string {
		return join(this.folder, name);
	}

	/** The whole page at each size, then back to the desktop size the flows run at. */
	async take(page: Page, name: string): Promise<void> {
		for (const [size, viewport] of Object.entries(VIEWPORTS)) {
			await page.setViewportSize(viewport);
			await page.screenshot({ path: join(this.folder, `${name}-${size}.png`), fullPage: true, animations: "disabled", caret: "hide" });
		}
		await page.setViewportSize(VIEWPORTS.desktop);
		this.taken.push(name);
	}

	/** Copies the documented screenshots into docs/ when asked to (TWOFOLD_UPDATE_DOC_SCREENSHOTS=1). */
	finish(): void {
		if (process.env.TWOFOLD_UPDATE_DOC_SCREENSHOTS !== "1") return;
		mkdirSync(this.docsFolder, { recursive: true });
		for (const name of this.documented) {
			if (!this.taken.includes(name)) continue;
			for (const size of Object.keys(VIEWPORTS)) copyFileSync(join(this.folder, `${name}-${size}.png`), join(this.docsFolder, `${name}-${size}.png`));
		}
	}
}
