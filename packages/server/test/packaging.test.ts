import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import semver from "semver";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script, run as npm runs it.
import { serverShrinkwrapText } from "../scripts/shrinkwrap.mjs";

/**
 * What a user installs (issue 13): the licence, the server's npm-shrinkwrap.json made from the lockfile CI
 * installs, Node versions every production package accepts, and an SDK README whose imports exist. The
 * packed tarballs themselves are installed and run by e2e/packaged-install.test.ts.
 */
const root = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string): string => readFileSync(`${root}${path}`, "utf8");
const manifest = (path: string) => JSON.parse(read(path)) as Record<string, unknown> & { engines?: { node?: string } };

interface LockEntry {
	version?: string;
	dev?: boolean;
	link?: boolean;
	engines?: { node?: string } | string[];
}

describe("packaging", () => {
	it("the repository and each package carry the Apache License 2.0, and every package.json says so", () => {
		const licence = read("LICENSE");
		// The full text, not a notice: its patent grant (section 3) is why this licence was chosen.
		for (const part of ["Apache License", "Version 2.0, January 2004", "3. Grant of Patent License.", "END OF TERMS AND CONDITIONS", "APPENDIX: How to apply"]) {
			expect(licence).toContain(part);
		}
		// A tarball holds only its package's directory, so each package ships its own copy of the same text.
		expect(read("packages/sdk/LICENSE")).toBe(licence);
		expect(read("packages/server/LICENSE")).toBe(licence);
		for (const path of ["package.json", "packages/sdk/package.json", "packages/server/package.json"]) expect(manifest(path).license, path).toBe("Apache-2.0");
	});

	it("npm-shrinkwrap.json is what `npm run shrinkwrap` makes from package-lock.json and the server's package.json", () => {
		const committed = read("packages/server/npm-shrinkwrap.json");
		expect(committed, "packages/server/npm-shrinkwrap.json is stale: run `npm run shrinkwrap` and commit it").toBe(serverShrinkwrapText(root));
		const shrinkwrap = JSON.parse(committed) as { packages: Record<string, LockEntry & { dependencies?: Record<string, string>; inBundle?: boolean }> };
		expect(shrinkwrap.packages[""]!.dependencies).toEqual(manifest("packages/server/package.json").dependencies);
		// The SDK comes from the tarball's bundle, never from a registry: no resolved URL, no integrity of a download.
		expect(shrinkwrap.packages["node_modules/@twofold/sdk"]).toMatchObject({ inBundle: true, version: manifest("packages/sdk/package.json").version });
		expect(shrinkwrap.packages["node_modules/@twofold/sdk"]).not.toHaveProperty("resolved");
		// The pin the workspace's overrides make (cookie 2 wants Node 22) is in the shrinkwrap too.
		expect(shrinkwrap.packages["node_modules/light-my-request/node_modules/cookie"]?.version).toMatch(/^1\./);
		expect(Object.values(shrinkwrap.packages).some((entry) => entry.dev === true)).toBe(false);
	});

	it("every package installed accepts each Node line the project supports: production ones the server's, all of them the clone's", () => {
		const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, LockEntry> };
		const server = manifest("packages/server/package.json").engines?.node;
		expect(server).toBe(">=20.6.0");
		// The SDK needs nothing newer than Node 20.0; the server needs 20.6 (import.meta.resolve, unflagged in 20.6.0).
		expect(semver.subset(server!, manifest("packages/sdk/package.json").engines!.node!)).toBe(true);
		// A clone also installs the test tools (vitest's vite and rolldown want 20.19, Stryker's prompts 22.13 on the 22 line).
		const clone = manifest("package.json").engines?.node;
		expect(clone).toBe("^20.19.0 || >=22.13.0");
		expect(semver.subset(clone!, server!)).toBe(true);
		const refused = [
			...refusals(lock, (entry) => entry.dev !== true, ["20.6.0", "20.19.0", "22.0.0", "24.0.0", process.versions.node]),
			...refusals(lock, () => true, ["20.19.0", "22.13.0", "24.0.0", process.versions.node]),
		];
		expect(refused).toEqual([]);
	});

	/** Each package (of those `include` keeps) whose engines.node refuses one of the versions: the oldest release of each line claimed, and the running Node. */
	function refusals(lock: { packages: Record<string, LockEntry> }, include: (entry: LockEntry) => boolean, versions: string[]): string[] {
		const refused: string[] = [];
		for (const [location, entry] of Object.entries(lock.packages)) {
			if (!include(entry) || entry.link === true || location === "") continue;
			const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
			if (range === undefined) continue;
			for (const version of versions) {
				if (!semver.satisfies(version, range)) refused.push(`${location}@${entry.version} (engines.node ${range}) refuses Node ${version}`);
			}
		}
		return refused;
	}

	it("the SDK README imports only names its modules export", async () => {
		const readme = read("packages/sdk/README.md");
		const imports = [...readme.matchAll(/import \{([^}]+)\} from "(@twofold\/sdk(?:\/[\w-]+)?)"/g)];
		expect(imports.length).toBeGreaterThanOrEqual(5);
		for (const [, names, specifier] of imports) {
			const module = (await import(specifier!)) as Record<string, unknown>;
			for (const name of names!.split(",").map((part) => part.trim().replace(/^type\s+/, ""))) {
				expect(module[name], `${name} from ${specifier}`).toBeDefined();
			}
		}
		// Every `exports` entry the README documents resolves to built code and its types.
		const sdk = manifest("packages/sdk/package.json") as { exports: Record<string, { types: string; default: string } | string> };
		for (const [subpath, target] of Object.entries(sdk.exports)) {
			if (typeof target === "string") continue;
			expect(target.types, subpath).toMatch(/^\.\/dist\/.+\.d\.ts$/);
			expect(readFileSync(`${root}packages/sdk/${target.default}`, "utf8").length, subpath).toBeGreaterThan(0);
			expect(readFileSync(`${root}packages/sdk/${target.types}`, "utf8").length, subpath).toBeGreaterThan(0);
		}
	});
});
