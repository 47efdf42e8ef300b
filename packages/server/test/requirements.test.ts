import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * docs/requirements.md is where a requirement ID cited in a comment or a test name is explained. These checks keep
 * it honest, in the manner of docs-sync.test.ts:
 *
 * 1. Every ID cited anywhere in the repository's code, tests, docs, examples and deployment files is defined in
 *    docs/requirements.md as a heading or a table row. The forms in use: family IDs ("R-OTP-6"), attack classes
 *    ("V-15"), their lettered attack tests ("V-5a"), durability items ("D-6"), ranges ("R-EM-1…5", every ID from
 *    the first to the last) and lists ("R-ST-1/2", "R-LC-1/4").
 * 2. Every test file docs/requirements.md names exists, and every test name it gives after a "›" appears in that
 *    file ("…" at the end of a name: the name starts so).
 * 3. Every entry gives a rule, a reason and its tests, or says "no test yet", so a missing test is stated, not hidden.
 *
 * The folders are walked recursively, so files that move keep being scanned.
 */

const root = new URL("../../../", import.meta.url).pathname;
const REQUIREMENTS = "docs/requirements.md";
const SCANNED = ["packages", "examples", "bench", "deploy", "docs", ".ci", "README.md"];
const SKIPPED_DIRECTORIES = new Set(["node_modules", "dist", ".stryker-tmp", "reports"]);
const SKIPPED_FILES = new Set(["package-lock.json", "npm-shrinkwrap.json"]);
const BINARY = /\.(png|jpe?g|gif|ico|webp|tgz|gz|zip|wasm|der|p12|sqlite|db)$/i;

/** A family prefix and number, an optional letter (an attack test of a V- class), then any "…N", "..N", "–N" or "/N". */
const ID = /\b(R-[A-Z]{2,3}-|V-|D-)(\d+)([a-z]?)\b((?:\s*(?:…|\.\.|–|\/)\s*\d+\b)*)/g;

function citedIds(text: string): string[] {
	return [...text.matchAll(ID)].flatMap((match) => {
		const family = match[1]!;
		const ids = [`${family}${match[2]}${match[3]}`];
		let previous = Number(match[2]);
		for (const step of match[4]!.matchAll(/(…|\.\.|–|\/)\s*(\d+)/g)) {
			const last = Number(step[2]);
			for (let n = step[1] === "/" ? last : previous + 1; n <= last; n++) ids.push(`${family}${n}`);
			previous = last;
		}
		return ids;
	});
}

function files(path: string): string[] {
	const full = join(root, path);
	if (!existsSync(full)) return [];
	if (!statSync(full).isDirectory()) return [full];
	return readdirSync(full, { withFileTypes: true }).flatMap((entry) => {
		if (entry.isDirectory()) return SKIPPED_DIRECTORIES.has(entry.name) ? [] : files(join(path, entry.name));
		return SKIPPED_FILES.has(entry.name) || BINARY.test(entry.name) ? [] : [join(full, entry.name)];
	});
}

/** The IDs docs/requirements.md defines: the first word of a heading, or the first cell of a table row. */
function definedIds(markdown: string): Set<string> {
	const defined = new Set<string>();
	for (const line of markdown.split("\n")) {
		const found = /^#{2,6}\s+(\S+)/.exec(line) ?? /^\|\s*(\S+)\s*\|/.exec(line);
		if (found !== null && citedIds(found[1]!).length === 1 && citedIds(found[1]!)[0] === found[1]) defined.add(found[1]!);
	}
	return defined;
}

/** Each `….test.ts` the document names, with the "›" test names that follow it on the same line. */
function testReferences(markdown: string): { file: string; name?: string; line: number }[] {
	return markdown.split("\n").flatMap((text, index) => {
		const references: { file: string; name?: string; line: number }[] = [];
		let file: string | undefined;
		for (const token of text.matchAll(/`([^`\s]+\.test\.ts)`|›\s*"([^"]+)"/g)) {
			if (token[1] !== undefined) {
				file = token[1];
				references.push({ file, line: index + 1 });
			} else references.push({ file: file ?? "(no file before the name)", name: token[2]!, line: index + 1 });
		}
		return references;
	});
}

const requirements = readFileSync(join(root, REQUIREMENTS), "utf8");

describe("docs/requirements.md stays in sync with the IDs the repository cites", () => {
	it("every cited ID is defined there, as a heading or a table row", () => {
		const defined = definedIds(requirements);
		const undefinedCitations = SCANNED.flatMap(files)
			.filter((file) => relative(root, file) !== REQUIREMENTS)
			.flatMap((file) => [...new Set(citedIds(readFileSync(file, "utf8")))].filter((id) => !defined.has(id)).map((id) => `${relative(root, file)}: ${id}`));
		expect(defined.size).toBeGreaterThan(80);
		expect(undefinedCitations).toEqual([]);
	});

	it("every test file it names exists, and every › test name appears in its file", () => {
		const references = testReferences(requirements);
		expect(references.filter((reference) => reference.name !== undefined).length).toBeGreaterThan(30);
		const wrong = references
			.filter(({ file, name }) => {
				const path = join(root, file);
				if (!existsSync(path)) return true;
				return name !== undefined && !readFileSync(path, "utf8").includes(name.replace(/…$/, ""));
			})
			.map(({ file, name, line }) => `line ${line}: ${file}${name === undefined ? "" : ` › "${name}"`}`);
		expect(wrong).toEqual([]);
	});

	it("every entry under a heading gives its rule, its reason and its tests, or says it has no test yet", () => {
		const sections = requirements.split(/^(?=#{2,6}\s)/m).filter((section) => definedIds(section.split("\n")[0]!).size === 1);
		expect(sections.length).toBeGreaterThan(70);
		const incomplete = sections
			.filter((section) => {
				const tests = /\*\*Tests:\*\*([^]*)/.exec(section)?.[1] ?? "";
				return !section.includes("**Rule:**") || !section.includes("**Reason:**") || !(/`[^`\s]+\.test\.ts`/.test(tests) || tests.includes("no test yet"));
			})
			.map((section) => section.split("\n")[0]);
		expect(incomplete).toEqual([]);
	});

	it("reads the citation forms in use: ranges and lists expand, lettered attack tests stay whole", () => {
		expect(citedIds("(R-EM-1…5, V-5a; R-ST-1/2, R-LC-1/R-RC-5, D-6) V-14's")).toEqual([
			"R-EM-1",
			"R-EM-2",
			"R-EM-3",
			"R-EM-4",
			"R-EM-5",
			"V-5a",
			"R-ST-1",
			"R-ST-2",
			"R-LC-1",
			"R-RC-5",
			"D-6",
			"V-14",
		]);
	});
});
