import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readAutheliaYAML } from "../../src/token-files/authelia-yaml.js";
import { readPlainItem } from "../../src/token-files/yaml-plain-item.js";
import { TokenFileError } from "../../src/token-files/import-record.js";
import { expectOathtoolAgrees, OATHTOOL } from "./oathtool-check.js";
import { type Expected, fixture, problems, read, readAll, records, summary, text } from "./token-file-helpers.js";

const E = "56e2277816fc47d78c267bc6107b2e05c0f94f21";
const F = "33c3e5c1807d1bc2bc002b926b7f4278f448118a";

const EXPECTED: Expected[] = [
	{ location: "totp_configurations item 1 (line 2)", userId: "john", type: "totp", hex: E, algorithm: "SHA1", digits: 6, period: 30 },
	{ location: "totp_configurations item 2 (line 10)", userId: "harry", type: "totp", hex: F, algorithm: "SHA256", digits: 8, period: 60 },
	{ location: "totp_configurations item 3 (line 18)", userId: "weak", type: "totp", hex: "48656c6c6f21deadbeef", algorithm: "SHA1", digits: 6, period: 30 },
];

/** One item with `fields` (YAML lines at the item's indentation) and the list's usual frame. */
function single(fields: string[], indent = "    "): Uint8Array {
	return text(["totp_configurations:", `${indent}- ${fields[0]}`, ...fields.slice(1).map((field) => `${indent}  ${field}`)].join("\n"));
}

const FIELDS = ["created_at: 2024-03-01T09:00:00Z", "last_used_at: null", "username: u", "issuer: Authelia", "algorithm: SHA1", "digits: 6", "period: 30"];
const SECRET = "secret: SzNSQ082QVc3UkQ1UERCR1BQREJBNlpPQVhBUFNUWkI=";

async function fileFault(promise: Promise<unknown>): Promise<TokenFileError> {
	const error = await promise.then(() => undefined, (caught: unknown) => caught);
	expect(error).toBeInstanceOf(TokenFileError);
	return error as TokenFileError;
}

describe("Authelia's `authelia storage user totp export` YAML", () => {
	it("username, algorithm, digits, period; the secret decoded base64 then base32; last_used_at as the replay fence", async () => {
		const items = await read(readAutheliaYAML, fixture("authelia.export.totp.yml"));
		expect(problems(items)).toEqual([]);
		expect(records(items).map(summary)).toEqual(EXPECTED);
		// 2024-05-02T08:15:02.123Z is step 57154590 of 30 s; Authelia's skew of 1 may have accepted the next step's code then.
		expect(records(items).map((record) => record.lastUsedStep)).toEqual([57154591, undefined, undefined]);
	});

	it.skipIf(!OATHTOOL)("each fixture secret gives oathtool's codes when computed from what the reader returned", async () => {
		records(await read(readAutheliaYAML, fixture("authelia.export.totp.yml"))).forEach((record, index) => expectOathtoolAgrees(record, EXPECTED[index]!));
	});

	it("items at the left margin, other top-level keys, comments and an empty list", async () => {
		const yaml = ["# exported", "version: 1", "other:", "  - not: ours", "totp_configurations:", ...[...FIELDS, SECRET].map((field, index) => (index === 0 ? `- ${field}` : `  ${field}`)), "# the end", "trailer: true"].join("\n");
		expect(records(await read(readAutheliaYAML, text(yaml))).map((record) => record.userId)).toEqual(["u"]);
		expect(await read(readAutheliaYAML, text("totp_configurations: []\n"))).toEqual([]);
		expect(await read(readAutheliaYAML, text("totp_configurations:\n"))).toEqual([]);
	});

	it("a bad item is a problem located by item and line; the items after it still read; no reason quotes the secret", async () => {
		const secretLine = "secret: SzNSQ082QVc3UkQ1UERCR1BQREJBNlpPQVhBUFNUWkI=";
		const item = (...changes: string[]): string[] => {
			const fields = [...FIELDS, secretLine].map((field) => changes.find((change) => change.split(":")[0] === field.split(":")[0]) ?? field);
			return fields.map((field, index) => (index === 0 ? `    - ${field}` : `      ${field}`));
		};
		const yaml = [
			"totp_configurations:",
			...item("username: a1", "secret: not base64!"),
			...item("username: a2", "secret: aGVsbG8gd29ybGQ="), // base64 of "hello world": not base32 text
			...item("username: a3", "digits: 10"),
			...item("username: a4", "algorithm: MD5"),
			...item("username: ", "period: 30"),
			...item("username: a6", `${secretLine} ]`),
			...item("username: a7", "last_used_at: yesterday"),
			...item("username: a8", "period: 7"),
			...item("username: a9"),
		];
		const items = await read(readAutheliaYAML, text(yaml.join("\n")));
		expect(problems(items).map((problem) => [problem.location, problem.code, problem.userId])).toEqual([
			["totp_configurations item 1 (line 2)", "invalid_secret", "a1"],
			["totp_configurations item 2 (line 10)", "invalid_secret", "a2"],
			["totp_configurations item 3 (line 18)", "invalid_digits", "a3"],
			["totp_configurations item 4 (line 26)", "unsupported_algorithm", "a4"],
			["totp_configurations item 5 (line 34)", "missing_user", undefined],
			["totp_configurations item 6 (line 42)", "invalid_secret", "a6"],
			["totp_configurations item 7 (line 50)", "invalid_last_used", "a7"],
			["totp_configurations item 8 (line 58)", "invalid_period", "a8"],
		]);
		expect(records(items).map((record) => record.userId)).toEqual(["a9"]);
		expect(JSON.stringify(problems(items))).not.toContain("SzNSQ082QVc3UkQ1UERCR1BQREJBNlpPQVhBUFNUWkI");
	});

	it("YAML that does not parse, a duplicate key and an alias are invalid_yaml problems that quote nothing of the item", async () => {
		const broken = await read(readAutheliaYAML, single([...FIELDS, "secret: [SzNSQ082QVc3UkQ1UERCR1BQREJBNlpPQVhBUFNUWkI="]));
		expect(problems(broken).map((problem) => problem.code)).toEqual(["invalid_yaml"]);
		expect(problems(broken)[0]!.reason).not.toContain("SzNSQ");
		const duplicate = await read(readAutheliaYAML, single([...FIELDS, SECRET, "username: someone-else"]));
		expect(problems(duplicate).map((problem) => problem.code)).toEqual(["invalid_yaml"]);
		const alias = await read(readAutheliaYAML, single(["created_at: &t 2024-03-01T09:00:00Z", "last_used_at: *t", "username: u", SECRET]));
		expect(problems(alias).map((problem) => problem.code)).toEqual(["invalid_yaml"]);
	});

	it("file faults: no totp_configurations key, a flow list, tabs, the key twice, an item beyond 64 KiB", async () => {
		expect((await fileFault(read(readAutheliaYAML, text("users:\n  - john\n")))).code).toBe("missing_key");
		expect((await fileFault(read(readAutheliaYAML, text("totp_configurations: [{username: john}]\n")))).code).toBe("unsupported_yaml");
		expect((await fileFault(read(readAutheliaYAML, text("totp_configurations:\n\t- username: john\n")))).code).toBe("invalid_yaml");
		const twice = [...new TextDecoder().decode(single([...FIELDS, SECRET])).split("\n"), "totp_configurations:"].join("\n");
		expect((await fileFault(read(readAutheliaYAML, text(twice)))).code).toBe("invalid_yaml");
		const comments = Array.from({ length: 2000 }, () => `      # ${"x".repeat(40)}`);
		expect((await fileFault(read(readAutheliaYAML, single([...FIELDS, ...comments.map((line) => line.trim()), SECRET])))).code).toBe("item_too_large");
	});

	it("the plain-item shortcut reads what the YAML parser reads, value by value, and leaves every other shape to it", () => {
		const values = [
			"null", "~", "Null", "NULL", "true", "False", "1234", "007", "1.5", "1e3", "0x1f", "0o17", "-1", "+1", ".inf", ".NaN", "a b", "a  b", "a: b", "x #c", "'q'", '"q"',
			"[a]", "{a: 1}", "*a", "&a x", "!t x", "2024-03-01T09:00:00Z", "2024-03-02T10:00:00.123456789+01:00", "SzNSQ082QVc3UkQ1UERCR1BQREJBNlpPQVhBUFNUWkI=",
			"R0VaREdOQlZHWTNUUU9KUUdFWkRHTkJWR1kzVFFPSlE=", "user@example.com", "a:", "-a", "- a", "|", ">", "%x", "@x", "`x", "?x", ",x", "a,b", "x ", "99999999999999999999", "_x", "é", "1:2",
		];
		let shortcut = 0;
		for (const value of values) {
			const lines = ["- username: u", `  secret: ${value}`];
			const plain = readPlainItem(lines);
			if (plain === undefined) continue;
			shortcut++;
			expect(plain, value).toEqual((parse(lines.join("\n"), { schema: "core", uniqueKeys: true }) as unknown[])[0]);
		}
		expect(shortcut).toBeGreaterThanOrEqual(12);
		// Authelia's items take the shortcut…
		expect(readPlainItem([...FIELDS, SECRET].map((field, index) => (index === 0 ? `- ${field}` : `  ${field}`)))).toMatchObject({ username: "u", digits: 6, last_used_at: null });
		// …and no other shape does.
		for (const other of [["- a: 1", "    b: 2"], ["- a: 1", "  # note", "  b: 2"], ["- a: 1", "  a: 2"], ["- __proto__: x"], ["  a: 1"], ["- a: 1", "- b: 2"], ["- A: 1"], []]) {
			expect(readPlainItem(other), JSON.stringify(other)).toBeUndefined();
		}
	});

	it("streams: the first record comes out after its item ends, long before a 20,000-item file has been read", async () => {
		const itemText = (index: number): string =>
			[`    - created_at: 2024-03-01T09:00:00Z`, `      last_used_at: null`, `      username: user${index}`, `      issuer: Authelia`, `      algorithm: SHA1`, `      digits: 6`, `      period: 30`, `      ${SECRET}`, ""].join("\n");
		let produced = 0;
		async function* file(): AsyncGenerator<Uint8Array> {
			yield text("totp_configurations:\n");
			for (; produced < 20_000; ) yield text(itemText(produced++));
		}
		const reader = readAutheliaYAML(file(), {});
		const first = await reader.next();
		expect(first.value).toMatchObject({ kind: "record", record: { userId: "user0" } });
		expect(produced).toBeLessThanOrEqual(3);
		const rest = await readAll(reader);
		expect(rest).toHaveLength(19_999);
		expect(rest.at(-1)).toMatchObject({ kind: "record", record: { userId: "user19999", location: "totp_configurations item 20000 (line 159994)" } });
	});
});
