import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeBase32 } from "../src/core/base32.js";
import { readTokenFileOnThread } from "../src/services/import-reader-thread.js";
import { type ImportFormat, type ImportItem, type ReadOptions, TokenFileError } from "../src/token-files/import-record.js";
import { readTokenFile } from "../src/token-files/read-token-file.js";
import { chunked, fixture, readAll, text } from "./token-files/token-file-helpers.js";

/**
 * The import reads token files on a worker thread (services/import-reader-thread.ts, issue 17's PSKC speed): the same
 * items as the reader in this thread, the same faults, the input's own errors unchanged, and never more of the input
 * read than the consumer is about to take.
 */

const RFC6030_PSK = Buffer.from("12345678901234567890123456789012", "hex");
const PI_PSK = Buffer.from("0f1e2d3c4b5a69788796a5b4c3d2e1f0", "hex");

const FILES: { file: string; format: ImportFormat; options: ReadOptions }[] = [
	{ file: "otpauth-label.txt", format: "otpauth", options: { userFrom: "label" } },
	{ file: "oath-v2.csv", format: "oath-csv", options: {} },
	{ file: "pi-tokenjanitor.csv", format: "pi-csv", options: {} },
	{ file: "authelia.export.totp.yml", format: "authelia", options: {} },
	{ file: "rfc6030-figure2.pskc.xml", format: "pskc", options: {} },
	{ file: "rfc6030-figure6.pskc.xml", format: "pskc", options: { preSharedKey: RFC6030_PSK } },
	{ file: "rfc6030-figure7.pskc.xml", format: "pskc", options: { passphrase: "qwerty" } },
	{ file: "pi-tokenjanitor.pskc.xml", format: "pskc", options: { preSharedKey: PI_PSK } },
];

/** An item as comparable data: the secret as hex. */
const plain = (item: ImportItem) => (item.kind === "record" ? { ...item.record, secret: Buffer.from(item.record.secret).toString("hex") } : item);

describe("token files read on a worker thread", () => {
	it.each(FILES)("$file: the same items, in the same order, as the reader on this thread", async ({ file, format, options }) => {
		const here = await readAll(readTokenFile(chunked(fixture(file), 11), format, options));
		const there = await readAll(readTokenFileOnThread(chunked(fixture(file), 11), format, options));
		expect(there.length).toBeGreaterThan(0);
		expect(there.map(plain)).toEqual(here.map(plain));
		for (const item of there) {
			// Each secret arrives in a buffer of its own: nothing else of the thread's memory comes with it (R-ST-1).
			if (item.kind === "record") expect(item.record.secret.buffer.byteLength).toBe(item.record.secret.byteLength);
		}
	});

	it("a fault of the file is a TokenFileError with its code and location, after the items before it", async () => {
		const lines = Array.from({ length: 600 }, (_, index) => `otpauth://totp/Acme:user-${index}?secret=${encodeBase32(randomBytes(20))}`);
		const bytes = text(`${lines.join("\n")}\n${"x".repeat(70_000)}\n`);
		const seen: ImportItem[] = [];
		let fault: unknown;
		try {
			for await (const item of readTokenFileOnThread(chunked(bytes, 4096), "otpauth", { userFrom: "label" })) seen.push(item);
		} catch (error) {
			fault = error;
		}
		expect(seen).toHaveLength(600);
		expect(fault).toBeInstanceOf(TokenFileError);
		expect(fault).toMatchObject({ code: "line_too_long", location: "line 601" });
	});

	it("an option the format has no use for is refused from the thread as it is in-process", async () => {
		const run = readTokenFileOnThread(chunked(fixture("oath-v2.csv")), "oath-csv", { userFrom: "label" });
		await expect(readAll(run)).rejects.toMatchObject({ name: "TokenFileError", code: "option_not_applicable" });
	});

	it("an error of the input (an upload cut at its bound) is thrown as the input threw it", async () => {
		const tooLarge = Object.assign(new Error("the upload is too large"), { code: "import_too_large" });
		async function* input(): AsyncGenerator<Uint8Array> {
			yield text("otpauth://totp/Acme:one?secret=JBSWY3DPEHPK3PXP\n");
			throw tooLarge;
		}
		await expect(readAll(readTokenFileOnThread(input(), "otpauth", { userFrom: "label" }))).rejects.toBe(tooLarge);
	});

	it("reads the input only as the consumer takes items, and stops reading when the consumer stops", async () => {
		let pulled = 0;
		let closed = false;
		async function* endless(): AsyncGenerator<Uint8Array> {
			try {
				for (let index = 0; ; index += 1) {
					pulled += 1;
					yield text(`otpauth://totp/Acme:user-${index}?secret=${encodeBase32(randomBytes(20))}\n`);
				}
			} finally {
				closed = true;
			}
		}
		const items = readTokenFileOnThread(endless(), "otpauth", { userFrom: "label" });
		let taken = 0;
		for await (const item of items) {
			expect(item.kind).toBe("record");
			taken += 1;
			if (taken === 10) {
				// The thread may run ahead of the consumer by its bound (4 batches of 256 records and the batch being
				// gathered), then waits: give it time to show that it would not.
				await new Promise((resolve) => setTimeout(resolve, 1000));
				break;
			}
		}
		expect(pulled).toBeGreaterThan(10);
		expect(pulled).toBeLessThan(5 * 256 + 10);
		expect(closed).toBe(true);
	});
});
