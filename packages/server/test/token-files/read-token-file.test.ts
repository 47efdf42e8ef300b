import { describe, expect, it } from "vitest";
import { detectFormat } from "../../src/token-files/detect-format.js";
import type { ImportFormat, ReadOptions } from "../../src/token-files/import-record.js";
import { readTokenFile } from "../../src/token-files/read-token-file.js";
import { chunked, fixture, readAll, records, summary, text } from "./token-file-helpers.js";

/** Each text fixture, the format it is, the options it needs, and its users in order. */
const FIXTURES: { file: string; format: ImportFormat; options: ReadOptions; users: string[] }[] = [
	{ file: "otpauth-label.txt", format: "otpauth", options: { userFrom: "label" }, users: ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"] },
	{ file: "otpauth-columns.csv", format: "otpauth", options: {}, users: ["alice", "bob"] },
	{ file: "otpauth-columns.tsv", format: "otpauth", options: { userColumn: "id" }, users: ["42", "43"] },
	{ file: "oath-v1.csv", format: "oath-csv", options: { userColumn: "6" }, users: ["alice", "bob"] },
	{ file: "oath-v2.csv", format: "oath-csv", options: {}, users: ["alice", "bob", "carol", "dave", "frank"] },
	{ file: "pi-tokenjanitor.csv", format: "pi-csv", options: {}, users: ["alice", "bob", "carol@example.com"] },
	{ file: "pi-tokenjanitor-b32.csv", format: "pi-csv", options: {}, users: ["alice", "dave"] },
	{ file: "authelia.export.totp.yml", format: "authelia", options: {}, users: ["john", "harry", "weak"] },
];

/** RFC 6030 §5-style plain PSKC: one HOTP key, the RFC 4226 test secret, the next counter 5, owned by alice. */
const PLAIN_PSKC = `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
  <KeyPackage>
    <DeviceInfo><Manufacturer>Manufacturer</Manufacturer><SerialNo>987654321</SerialNo></DeviceInfo>
    <Key Id="12345678" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
      <AlgorithmParameters><ResponseFormat Length="8" Encoding="DECIMAL"/></AlgorithmParameters>
      <Data>
        <Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>
        <Counter><PlainValue>5</PlainValue></Counter>
      </Data>
      <UserId>alice</UserId>
    </Key>
  </KeyPackage>
</KeyContainer>
`;

describe("readTokenFile: detection, then the format's reader", () => {
	it.each(FIXTURES)("$file: detected as $format and read to its users", async ({ file, format, options, users }) => {
		const bytes = fixture(file);
		expect(detectFormat(bytes)).toBe(format);
		const items = await readAll(readTokenFile(chunked(bytes, 5), format, options));
		expect(records(items).map((record) => record.userId)).toEqual(users);
	});

	it("pskc goes to the PSKC reader (pskc-reader.ts, also for pi-tokenjanitor's PSKC export)", async () => {
		const bytes = text(PLAIN_PSKC);
		expect(detectFormat(bytes)).toBe("pskc");
		const found = records(await readAll(readTokenFile(chunked(bytes, 64), "pskc", {})));
		expect(found.map((record) => [record.userId, record.type, Buffer.from(record.secret).toString("hex"), record.digits, record.counter])).toEqual([
			["alice", "hotp", "3132333435363738393031323334353637383930", 8, 5],
		]);
	});

	it("an option the format has no use for is a file fault before anything is read", async () => {
		for (const [format, options] of [
			["oath-csv", { userFrom: "label" }],
			["authelia", { userColumn: "1" }],
			["pskc", { userColumn: "1" }],
			["pskc", { userFrom: "issuer-label" }],
		] as const) {
			const error = await readAll(readTokenFile(chunked(fixture("oath-v2.csv")), format, options)).catch((caught: unknown) => caught);
			expect(error, `${format} ${JSON.stringify(options)}`).toMatchObject({ name: "TokenFileError", code: "option_not_applicable" });
		}
	});

	it("one format's file given to another reader is problems or a file fault, never records made up from it", async () => {
		const authelia = fixture("authelia.export.totp.yml");
		const asCSV = await readAll(readTokenFile(chunked(authelia), "oath-csv", { userColumn: "1" })).catch((error: unknown) => error);
		expect(Array.isArray(asCSV) ? records(asCSV) : []).toEqual([]);
		const asOtpauth = await readAll(readTokenFile(chunked(fixture("oath-v2.csv")), "otpauth", { userFrom: "label" }));
		expect(records(asOtpauth)).toEqual([]);
		const asPi = await readAll(readTokenFile(chunked(fixture("otpauth-columns.csv")), "pi-csv", {}));
		expect(records(asPi).map(summary)).toEqual([]);
	});
});
