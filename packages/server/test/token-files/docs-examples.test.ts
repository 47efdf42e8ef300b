import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { IMPORT_FORMATS, type ImportFormat } from "../../src/token-files/import-record.js";
import { readTokenFile } from "../../src/token-files/read-token-file.js";
import { fixture, problems, readAll, records } from "./token-file-helpers.js";

/**
 * The commands docs/import.md shows an operator must work on a file of the kind they name: each `twofold import`
 * line's --format and --user-column, read against the fixture of that format with its user ids where the docs put them.
 */
const IMPORT_MD = readFileSync(new URL("../../../../docs/import.md", import.meta.url), "utf8");

/** The fixture each documented format is tried on (oath-v1.csv holds the user ids as a sixth column). */
const FIXTURE: Partial<Record<ImportFormat, string>> = { "oath-csv": "oath-v1.csv", "pi-csv": "pi-tokenjanitor.csv", otpauth: "otpauth-columns.csv" };

describe("docs/import.md's example commands", () => {
	const commands = IMPORT_MD.split("\n").filter((line) => /^npx twofold import .*--format /.test(line));

	it("there are some, and each names a format and its options as the CLI takes them", () => {
		expect(commands.length).toBeGreaterThan(0);
	});

	it.each(commands)("%s reads its format's fixture with no problem", async (command) => {
		const format = /--format (\S+)/.exec(command)![1] as ImportFormat;
		expect(IMPORT_FORMATS).toContain(format);
		const userColumn = /--user-column (\S+)/.exec(command)?.[1];
		const name = FIXTURE[format];
		expect(name, `no fixture for ${format}`).toBeDefined();
		const items = await readAll(readTokenFile((async function* () { yield fixture(name!); })(), format, userColumn === undefined ? {} : { userColumn }));
		expect(problems(items)).toEqual([]);
		expect(records(items).length).toBeGreaterThan(0);
	});
});
