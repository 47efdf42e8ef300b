import { describe, expect, it } from "vitest";
import { TokenFileError } from "../../src/token-files/import-record.js";
import { MAX_LINE_BYTES, readLines, type TextLine } from "../../src/token-files/text-lines.js";
import { chunked, text } from "./token-file-helpers.js";

async function lines(input: AsyncIterable<Uint8Array>, options?: { maxLineBytes?: number }): Promise<TextLine[]> {
	const all: TextLine[] = [];
	for await (const line of readLines(input, options)) all.push(line);
	return all;
}

async function fault(promise: Promise<unknown>): Promise<TokenFileError> {
	const error = await promise.then(
		() => undefined,
		(caught: unknown) => caught,
	);
	expect(error).toBeInstanceOf(TokenFileError);
	return error as TokenFileError;
}

describe("text-lines: bytes to numbered lines, streamed and bounded", () => {
	it("splits LF and CRLF lines cut anywhere across chunks, strips a leading BOM, keeps blank lines numbered", async () => {
		const bytes = text("\uFEFFfirst\r\nsecond\n\nf\u00fcnfte \u2603\r\nlast");
		for (const size of [1, 2, 3, 5, 64]) {
			expect(await lines(chunked(bytes, size))).toEqual([
				{ number: 1, text: "first" },
				{ number: 2, text: "second" },
				{ number: 3, text: "" },
				{ number: 4, text: "fünfte ☃" },
				{ number: 5, text: "last" },
			]);
		}
	});

	it("yields nothing after a final line end, and a BOM only at the very start is removed", async () => {
		expect(await lines(chunked(text("a\nb\n")))).toEqual([
			{ number: 1, text: "a" },
			{ number: 2, text: "b" },
		]);
		expect((await lines(chunked(text("a\n\uFEFFb"))))[1]!.text).toBe("\uFEFFb");
	});

	it("refuses bytes that are not UTF-8, naming the line, after yielding the lines before it", async () => {
		const bytes = new Uint8Array([...text("good\nstill good\nbad "), 0xff, 0xfe, ...text(" here\nnever read\n")]);
		const seen: TextLine[] = [];
		const error = await fault(
			(async () => {
				for await (const line of readLines(chunked(bytes, 4))) seen.push(line);
			})(),
		);
		expect(error.code).toBe("invalid_encoding");
		expect(error.location).toBe("line 3");
		expect(seen.map((line) => line.text)).toEqual(["good", "still good"]);
		// An overlong encoding and a lone surrogate half are not UTF-8 either (RFC 3629 §3).
		expect((await fault(lines(chunked(new Uint8Array([0x61, 0x0a, 0xc0, 0xaf]))))).location).toBe("line 2");
		expect((await fault(lines(chunked(new Uint8Array([0xed, 0xa0, 0x80]))))).code).toBe("invalid_encoding");
	});

	it("a 10 MB line is refused as soon as it passes the bound: the reader never asks for the rest of it", async () => {
		const chunkSize = 64 * 1024;
		const total = 10 * 1024 * 1024;
		let pulled = 0;
		async function* tenMegabytes(): AsyncGenerator<Uint8Array> {
			yield text("a short first line\n");
			for (let sent = 0; sent < total; sent += chunkSize) {
				pulled++;
				yield new Uint8Array(chunkSize).fill(0x41);
			}
		}
		const error = await fault(lines(tenMegabytes()));
		expect(error.code).toBe("line_too_long");
		expect(error.location).toBe("line 2");
		expect(error.reason).toContain(String(MAX_LINE_BYTES));
		// 64 KiB fit in the bound exactly; the second chunk passes it. 160 chunks were on offer.
		expect(pulled).toBe(2);
	});

	it("a line of exactly the bound is fine, one byte more is not, also as one big chunk", async () => {
		const exact = new Uint8Array(100).fill(0x62);
		expect((await lines(chunked(exact, 100), { maxLineBytes: 100 }))[0]!.text).toHaveLength(100);
		const over = new Uint8Array(101).fill(0x62);
		expect((await fault(lines(chunked(over, 1000), { maxLineBytes: 100 }))).code).toBe("line_too_long");
		// The CR of a CRLF counts: the bound is on the bytes read, checked before a line end is known.
		expect((await lines(chunked(new Uint8Array([...exact.slice(1), 0x0d, 0x0a]), 3), { maxLineBytes: 100 }))[0]!.text).toHaveLength(99);
	});
});
