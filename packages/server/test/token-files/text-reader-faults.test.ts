import { describe, expect, it } from "vitest";
import { readAutheliaYAML } from "../../src/token-files/authelia-yaml.js";
import { type ImportItem, type ReadOptions, TokenFileError, type TokenFileReader } from "../../src/token-files/import-record.js";
import { readOathCSV } from "../../src/token-files/oath-csv.js";
import { readOtpauthList } from "../../src/token-files/otpauth-list.js";
import { readPiCSV } from "../../src/token-files/pi-csv.js";
import { text } from "./token-file-helpers.js";

const SEED = "3132333435363738393031323334353637383930";

/** Each text reader with a first line (or header) and a generator of one valid record's text for user `n`. */
const READERS: { name: string; reader: TokenFileReader; options: ReadOptions; head: string; row: (n: number) => string }[] = [
	{ name: "otpauth", reader: readOtpauthList, options: {}, head: "user,uri\n", row: (n) => `user${n},otpauth://totp/A:user${n}?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n` },
	{ name: "oath-csv", reader: readOathCSV, options: {}, head: "# version: 2\n", row: (n) => `user${n}, resolver, realm, S${n}, ${SEED}, totp, 6, 30\n` },
	{ name: "pi-csv", reader: readPiCSV, options: {}, head: "", row: (n) => `user${n}@realm, S${n}, ${SEED}, totp, 6, 30\n` },
	{
		name: "authelia",
		reader: readAutheliaYAML,
		options: {},
		head: "totp_configurations:\n",
		row: (n) =>
			`  - created_at: 2024-03-01T09:00:00Z\n    last_used_at: null\n    username: user${n}\n    issuer: A\n    algorithm: SHA1\n    digits: 6\n    period: 30\n    secret: R0VaREdOQlZHWTNUUU9KUUdFWkRHTkJWR1kzVFFPSlE=\n`,
	},
];

async function drain(items: AsyncGenerator<ImportItem>, seen: ImportItem[]): Promise<TokenFileError> {
	try {
		for await (const item of items) seen.push(item);
	} catch (error) {
		expect(error).toBeInstanceOf(TokenFileError);
		return error as TokenFileError;
	}
	throw new Error("expected a TokenFileError");
}

describe.each(READERS)("$name reader: malformed bytes and bounded memory", ({ reader, options, head, row }) => {
	it("a 10 MB line stops the file with line_too_long after the records before it, without reading the rest of the line", async () => {
		let pulled = 0;
		async function* input(): AsyncGenerator<Uint8Array> {
			yield text(head + row(1) + row(2));
			for (let sent = 0; sent < 10 * 1024 * 1024; sent += 64 * 1024) {
				pulled++;
				yield new Uint8Array(64 * 1024).fill(0x78);
			}
		}
		const seen: ImportItem[] = [];
		const error = await drain(reader(input(), options), seen);
		expect(error.code).toBe("line_too_long");
		expect(pulled).toBe(2);
		// The records of complete lines before it: the last item of a YAML list ends only with what follows it.
		expect(seen.filter((item) => item.kind === "record").length).toBeGreaterThanOrEqual(1);
	});

	it("bytes that are not UTF-8 stop the file with invalid_encoding naming their line", async () => {
		const before = text(head + row(1));
		const lineNumber = new TextDecoder().decode(before).split("\n").length;
		const error = await drain(reader((async function* () {
			yield before;
			yield new Uint8Array([0x75, 0xff, 0x0a]);
		})(), options), []);
		expect(error.code).toBe("invalid_encoding");
		expect(error.location).toBe(`line ${lineNumber}`);
	});

	it("streams: the first record is out before the third chunk of a 20,000-record file is asked for", async () => {
		let produced = 0;
		async function* input(): AsyncGenerator<Uint8Array> {
			yield text(head);
			while (produced < 20_000) yield text(row(produced++));
		}
		const items = reader(input(), options);
		const first = await items.next();
		expect(first.value).toMatchObject({ kind: "record", record: { userId: "user0" } });
		expect(produced).toBeLessThanOrEqual(2);
		let count = 1;
		for await (const item of items) if (item.kind === "record") count++;
		expect(count).toBe(20_000);
	});
});
