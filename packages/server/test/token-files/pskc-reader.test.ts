import { describe, expect, it } from "vitest";
import { generateHOTP } from "../../src/core/hotp.js";
import { generateTOTP } from "../../src/core/totp.js";
import type { ImportItem, ImportRecord } from "../../src/token-files/import-record.js";
import type { PSKCKey, PSKCKeyItem } from "../../src/token-files/pskc-key-package.js";
import { readPSKC, readPSKCKeys } from "../../src/token-files/pskc-reader.js";
import { chunks, collect, failureOf, fixture, HAS_OATHTOOL, oathtoolCode } from "./pskc-helpers.js";

/**
 * RFC 6030's own examples (Figures 2-10) as vectors, read through the streaming reader in small chunks, and
 * privacyIDEA's pi-tokenjanitor PSKC export (fixture written by pi-tokenjanitor-pskc.py in the tool's shape).
 */

const RFC_SECRET = Buffer.from("12345678901234567890", "ascii");
const RFC6030_PSK = Buffer.from("12345678901234567890123456789012", "hex");
const PI_PSK = Buffer.from("0f1e2d3c4b5a69788796a5b4c3d2e1f0", "hex");

function keys(items: PSKCKeyItem[]): PSKCKey[] {
	return items.map((item) => {
		if (item.kind !== "key") throw new Error(`expected a key, got ${JSON.stringify(item.problem)}`);
		return item.key;
	});
}

function records(items: ImportItem[]): ImportRecord[] {
	return items.map((item) => {
		if (item.kind !== "record") throw new Error(`expected a record, got ${JSON.stringify(item.problem)}`);
		return item.record;
	});
}

function hex(bytes: Uint8Array | undefined): string | undefined {
	return bytes === undefined ? undefined : Buffer.from(bytes).toString("hex");
}

describe("RFC 6030 examples as vectors", () => {
	it("Figure 2: a plain secret, read as the bytes of the base64 PlainValue; no user, so not importable", async () => {
		const [key] = keys(await collect(readPSKCKeys(chunks(fixture("rfc6030-figure2.pskc.xml"), 7), {})));
		expect(Buffer.from(key!.secret!).toString("ascii")).toBe("1234");
		expect(key).toMatchObject({ index: 1, keyId: "12345678", algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:hotp", issuer: "Issuer-A" });
		const [item] = await collect(readPSKC(chunks(fixture("rfc6030-figure2.pskc.xml")), {}));
		expect(item).toEqual({
			kind: "problem",
			problem: { location: "KeyPackage 1 (Key Id 12345678)", code: "missing_user", reason: "neither Key/UserId nor DeviceInfo/UserId names the user" },
		});
	});

	it("Figure 3: device and key user ids, 8 digits, counter 0; Key/UserId names the user (§4.3.2 before §4.3.1)", async () => {
		const [key] = keys(await collect(readPSKCKeys(chunks(fixture("rfc6030-figure3.pskc.xml")), {})));
		expect(key).toMatchObject({
			serialNo: "987654321",
			keyId: "12345678",
			deviceUserId: "DC=example-bank,DC=net",
			keyUserId: "UID=jsmith,DC=example-bank,DC=net",
			responseLength: 8,
			responseEncoding: "DECIMAL",
			counter: 0,
		});
		expect(hex(key!.secret)).toBe(RFC_SECRET.toString("hex"));
		const [record] = records(await collect(readPSKC(chunks(fixture("rfc6030-figure3.pskc.xml")), {})));
		expect(record).toEqual({
			location: "KeyPackage 1 (Key Id 12345678)",
			userId: "UID=jsmith,DC=example-bank,DC=net",
			type: "hotp",
			secret: expect.any(Uint8Array),
			algorithm: "SHA1",
			digits: 8,
			serial: "12345678",
			counter: 0,
		});
		// RFC 4226 Appendix D, count 0, 8 digits of 84755224 → "84755224"
		expect(generateHOTP(record!.secret, 0n, 8, "SHA1")).toBe("84755224");
	});

	it("Figure 4: a key given only by derivation values has no secret: a problem, not a crash", async () => {
		const [key] = keys(await collect(readPSKCKeys(chunks(fixture("rfc6030-figure4.pskc.xml")), {})));
		expect(key).toMatchObject({ serialNo: "987654321", counter: 0 });
		expect(key!.secret).toBeUndefined();
		const [item] = await collect(readPSKC(chunks(fixture("rfc6030-figure4.pskc.xml")), {}));
		expect(item).toMatchObject({ kind: "problem", problem: { code: "missing_user" } });
	});

	it("Figure 5: the OTP key and its PIN key; the PIN package is an unsupported type", async () => {
		const found = keys(await collect(readPSKCKeys(chunks(fixture("rfc6030-figure5.pskc.xml")), {})));
		expect(found.map((key) => [key.keyId, key.algorithm, hex(key.secret)])).toEqual([
			["12345678", "urn:ietf:params:xml:ns:keyprov:pskc:hotp", RFC_SECRET.toString("hex")],
			["123456781", "urn:ietf:params:xml:ns:keyprov:pskc:pin", Buffer.from("1234").toString("hex")],
		]);
		const items = await collect(readPSKC(chunks(fixture("rfc6030-figure5.pskc.xml")), {}));
		expect(items.map((item) => item.kind === "problem" && item.problem.code)).toEqual(["missing_user", "unsupported_type"]);
	});

	it("Figure 6: pre-shared key AES-128-CBC with an HMAC-SHA1 MAC: the published key opens the published secret", async () => {
		const [key] = keys(await collect(readPSKCKeys(chunks(fixture("rfc6030-figure6.pskc.xml"), 13), { preSharedKey: RFC6030_PSK })));
		expect(hex(key!.secret)).toBe("3132333435363738393031323334353637383930");
		expect(key).toMatchObject({ keyId: "12345678", serialNo: "987654321", responseLength: 8, counter: 0 });
	});

	it("Figure 7: PBKDF2 from the password 'qwerty' opens the published secret", async () => {
		const [key] = keys(await collect(readPSKCKeys(chunks(fixture("rfc6030-figure7.pskc.xml")), { passphrase: "qwerty" })));
		expect(Buffer.from(key!.secret!).toString("ascii")).toBe("12345678901234567890");
		expect(key).toMatchObject({ keyId: "123456", serialNo: "987654321", responseLength: 8 });
	});

	it("Figure 7 without the password, or with another, refuses the whole file with one error", async () => {
		const none = await failureOf(readPSKCKeys(chunks(fixture("rfc6030-figure7.pskc.xml")), {}));
		expect(none).toMatchObject({ seen: 0, error: { name: "TokenFileError", code: "passphrase_required" } });
		const wrong = await failureOf(readPSKCKeys(chunks(fixture("rfc6030-figure7.pskc.xml")), { passphrase: "qwertz" }));
		expect(wrong).toMatchObject({ seen: 0, error: { code: "wrong_key_or_mac", location: "KeyPackage 1 (Key Id 123456)" } });
	});

	it("Figure 8: asymmetric encryption is refused by name", async () => {
		const failure = await failureOf(readPSKCKeys(chunks(fixture("rfc6030-figure8.pskc.xml")), { preSharedKey: RFC6030_PSK }));
		expect(failure).toMatchObject({ seen: 0, error: { code: "unsupported_encryption" } });
	});

	it("Figure 9: a signed container is read (the signature is not checked: docs/pskc.md)", async () => {
		const [key] = keys(await collect(readPSKCKeys(chunks(fixture("rfc6030-figure9.pskc.xml")), {})));
		expect(key).toMatchObject({ keyId: "123", serialNo: "0755225266", responseLength: 6, counter: 0 });
		expect(hex(key!.secret)).toBe(RFC_SECRET.toString("hex"));
	});

	it("Figure 10: bulk provisioning, four keys in file order", async () => {
		const found = keys(await collect(readPSKCKeys(chunks(fixture("rfc6030-figure10.pskc.xml"), 50), {})));
		expect(found.map((key) => [key.index, key.keyId, key.serialNo, key.counter, key.responseLength])).toEqual([
			[1, "1", "654321", 0, 8],
			[2, "2", "123456", 0, 8],
			[3, "3", "9999999", 0, 8],
			[4, "4", "9999999", 0, 8],
		]);
		for (const key of found) expect(hex(key.secret)).toBe(RFC_SECRET.toString("hex"));
	});

	it("reads the same whatever the chunking (1 byte, 4 KiB, whole)", async () => {
		const bytes = fixture("rfc6030-figure7.pskc.xml");
		for (const size of [1, 4096, bytes.byteLength]) {
			const [key] = keys(await collect(readPSKCKeys(chunks(bytes, size), { passphrase: "qwerty" })));
			expect(Buffer.from(key!.secret!).toString("ascii")).toBe("12345678901234567890");
		}
	});
});

describe("privacyIDEA pi-tokenjanitor PSKC export", () => {
	it("reads the lower-cased, pre-shared-key file: secrets, serials, digits, hash, counters; the pw token is refused", async () => {
		const found = await collect(readPSKCKeys(chunks(fixture("pi-tokenjanitor.pskc.xml"), 61), { preSharedKey: PI_PSK }));
		expect(found).toHaveLength(3);
		const [pw, totp, hotp] = found.map((item) => (item.kind === "key" ? item.key : undefined));
		expect(hotp).toMatchObject({ keyId: "OATH0001A2B3", serialNo: "OATH0001A2B3", issuer: "privacyIDEA", responseLength: 6, suite: "sha1", counter: 7, time: 0, timeInterval: 0 });
		expect(Buffer.from(hotp!.secret!).toString("ascii")).toBe("12345678901234567890");
		expect(totp).toMatchObject({ keyId: "TOTP00004C1D", responseLength: 8, suite: "sha256", counter: 56000001, timeInterval: 30, timeDrift: -12 });
		expect(Buffer.from(totp!.secret!).toString("ascii")).toBe("12345678901234567890123456789012");
		expect(pw).toMatchObject({ keyId: "PW0000123456", algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:pw" });
	});

	it("the export names no owner: every token is reported missing_user (the pw token unsupported_type)", async () => {
		const items = await collect(readPSKC(chunks(fixture("pi-tokenjanitor.pskc.xml")), { preSharedKey: PI_PSK }));
		expect(items.map((item) => item.kind === "problem" && [item.problem.location, item.problem.code])).toEqual([
			["KeyPackage 1 (Key Id PW0000123456)", "unsupported_type"],
			["KeyPackage 2 (Key Id TOTP00004C1D)", "missing_user"],
			["KeyPackage 3 (Key Id OATH0001A2B3)", "missing_user"],
		]);
	});

	it("with a user added (Key/UserId, as an operator would), the TOTP maps privacyIDEA's counter to the last used step", async () => {
		const text = fixture("pi-tokenjanitor.pskc.xml")
			.toString("utf8")
			.replace(/<\/data>/g, "</data>\n<userid>alice@example</userid>");
		const items = records((await collect(readPSKC(chunks(text), { preSharedKey: PI_PSK }))).slice(1));
		expect(items.map(({ secret: _, ...rest }) => rest)).toEqual([
			{ location: "KeyPackage 2 (Key Id TOTP00004C1D)", userId: "alice@example", type: "totp", algorithm: "SHA256", digits: 8, serial: "TOTP00004C1D", period: 30, lastUsedStep: 56000000 },
			{ location: "KeyPackage 3 (Key Id OATH0001A2B3)", userId: "alice@example", type: "hotp", algorithm: "SHA1", digits: 6, serial: "OATH0001A2B3", counter: 7 },
		]);
	});

	it("a wrong pre-shared key refuses the file before any record", async () => {
		const wrong = Buffer.from(PI_PSK);
		wrong[0]! ^= 1;
		const failure = await failureOf(readPSKC(chunks(fixture("pi-tokenjanitor.pskc.xml")), { preSharedKey: wrong }));
		expect(failure).toMatchObject({ seen: 0, error: { code: "wrong_key_or_mac" } });
		const missing = await failureOf(readPSKC(chunks(fixture("pi-tokenjanitor.pskc.xml")), {}));
		expect(missing).toMatchObject({ seen: 0, error: { code: "key_required" } });
	});
});

describe.skipIf(!HAS_OATHTOOL)("fixture secrets checked with oathtool", () => {
	it("the codes oathtool computes for what the reader returned equal core/hotp.ts and core/totp.ts", async () => {
		const [figure6] = keys(await collect(readPSKCKeys(chunks(fixture("rfc6030-figure6.pskc.xml")), { preSharedKey: RFC6030_PSK })));
		for (const counter of [0, 1, 9]) {
			expect(oathtoolCode({ type: "hotp", secret: figure6!.secret!, digits: 8, counter })).toBe(generateHOTP(figure6!.secret!, BigInt(counter), 8, "SHA1"));
		}
		const text = fixture("pi-tokenjanitor.pskc.xml").toString("utf8").replace(/<\/data>/g, "</data><userid>u1</userid>");
		const [totp, hotp] = records((await collect(readPSKC(chunks(text), { preSharedKey: PI_PSK }))).slice(1));
		const at = 1_700_000_000;
		expect(oathtoolCode({ type: "totp", secret: totp!.secret, digits: 8, algorithm: "SHA256", period: 30, atSeconds: at })).toBe(
			generateTOTP({ key: totp!.secret, nowInMilliseconds: at * 1000, periodInSeconds: 30, digits: 8, algorithm: "SHA256" }),
		);
		expect(oathtoolCode({ type: "hotp", secret: hotp!.secret, digits: 6, counter: hotp!.counter! })).toBe(generateHOTP(hotp!.secret, 7n, 6, "SHA1"));
	});
});

describe("Twofold's rules on a package", () => {
	const wrap = (key: string, device = "") =>
		`<?xml version="1.0"?><KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage><DeviceInfo>${device}</DeviceInfo>${key}</KeyPackage></KeyContainer>`;
	const secret = "<Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>";
	const one = async (xml: string) => (await collect(readPSKC(chunks(xml), {})))[0]!;

	it("a TOTP key: period, SHA-512 suite, 7 digits, FriendlyName as label, no counter; the device's user when the key has none", async () => {
		const item = await one(
			wrap(
				`<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><FriendlyName>Phone</FriendlyName><AlgorithmParameters><Suite>HMAC-SHA512</Suite><ResponseFormat Length="7" Encoding="DECIMAL"/></AlgorithmParameters>${secret}<TimeInterval><PlainValue>60</PlainValue></TimeInterval><Time><PlainValue>0</PlainValue></Time></Data></Key>`,
				"<SerialNo>S-1</SerialNo><UserId>bob</UserId>",
			),
		);
		expect(item).toMatchObject({ kind: "record", record: { userId: "bob", type: "totp", algorithm: "SHA512", digits: 7, period: 60, serial: "k1", label: "Phone" } });
		expect(item.kind === "record" && item.record.lastUsedStep).toBeUndefined();
	});

	it("privacyIDEA's 'None' for a token without a timeStep is an absent TimeInterval (30 s), and a float TimeDrift is no fault", async () => {
		const item = await one(
			wrap(`<key id="p" algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">${secret}<timeinterval><plainvalue>None</plainvalue></timeinterval><timedrift><plainvalue>-12.0</plainvalue></timedrift></Data><userid>frank</userid></key>`),
		);
		expect(item).toMatchObject({ kind: "record", record: { userId: "frank", period: 30 } });
		const bad = await one(wrap(`<Key Id="q" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">${secret}<TimeInterval><PlainValue>thirty</PlainValue></TimeInterval></Data><UserId>gina</UserId></Key>`));
		expect(bad).toMatchObject({ kind: "problem", problem: { code: "invalid_period", userId: "gina" } });
	});

	it("an HOTP key without a Counter is imported without one (it will need resynchronization)", async () => {
		const item = await one(wrap(`<Key Id="h" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">${secret}</Data><UserId>carol</UserId></Key>`));
		expect(item.kind === "record" && "counter" in item.record).toBe(false);
	});

	it.each([
		["digits", `<AlgorithmParameters><ResponseFormat Length="10"/></AlgorithmParameters>${secret}</Data>`, "invalid_digits"],
		["encoding", `<AlgorithmParameters><ResponseFormat Length="6" Encoding="HEXADECIMAL"/></AlgorithmParameters>${secret}</Data>`, "unsupported_encoding"],
		["check digits", `<AlgorithmParameters><ResponseFormat Length="6" CheckDigits="true"/></AlgorithmParameters>${secret}</Data>`, "unsupported_encoding"],
		["suite", `<AlgorithmParameters><Suite>MD5</Suite></AlgorithmParameters>${secret}</Data>`, "unsupported_algorithm"],
		["period", `${secret}<TimeInterval><PlainValue>5</PlainValue></TimeInterval></Data>`, "invalid_period"],
		["time origin", `${secret}<Time><PlainValue>1000</PlainValue></Time></Data>`, "unsupported_time"],
		["counter", `${secret}<Counter><PlainValue>-1</PlainValue></Counter></Data>`, "invalid_counter"],
		["base64", `<Data><Secret><PlainValue>not base64!</PlainValue></Secret></Data>`, "invalid_secret"],
		["no secret", `<Data><Counter><PlainValue>1</PlainValue></Counter></Data>`, "missing_secret"],
	])("a bad %s is a problem for that package only, naming the user", async (_, body, code) => {
		const xml = `<KeyContainer Version="1.0"><KeyPackage><Key Id="bad" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">${body}<UserId>dave</UserId></Key></KeyPackage><KeyPackage><Key Id="good" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">${secret}</Data><UserId>erin</UserId></Key></KeyPackage></KeyContainer>`;
		const items = await collect(readPSKC(chunks(xml), {}));
		expect(items[0]).toMatchObject({ kind: "problem", problem: { location: "KeyPackage 1 (Key Id bad)", code, userId: "dave" } });
		expect(items[1]).toMatchObject({ kind: "record", record: { userId: "erin", serial: "good" } });
		// A problem's words never carry the secret's value.
		expect(JSON.stringify(items[0])).not.toContain("MTIzNDU2");
	});
});
