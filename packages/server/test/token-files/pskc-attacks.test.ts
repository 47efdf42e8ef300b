import { createCipheriv, createHmac, randomBytes } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { readPSKC } from "../../src/token-files/pskc-reader.js";
import { readContainerChildren, XML_LIMITS } from "../../src/token-files/pskc-xml.js";
import { chunks, collect, failureOf, fixture } from "./pskc-helpers.js";

/**
 * Malformed and hostile PSKC files (issue 17; V-13): each is refused with a TokenFileError naming the fault, before
 * any record, and nothing of a key, a secret or a file the attacker points at comes back in the error.
 */

const RFC6030_PSK = Buffer.from("12345678901234567890123456789012", "hex");
const SECRET = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=";

function plainPackage(user: string, id: string): string {
	return `<KeyPackage><Key Id="${id}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><Data><Secret><PlainValue>${SECRET}</PlainValue></Secret></Data><UserId>${user}</UserId></Key></KeyPackage>`;
}

describe("XML attacks", () => {
	it("a DOCTYPE with entity expansion (billion laughs) is refused, nothing expanded, before any record", async () => {
		const lol = ["<!ENTITY lol0 \"lol\">"];
		for (let level = 1; level <= 9; level++) lol.push(`<!ENTITY lol${level} "${`&lol${level - 1};`.repeat(10)}">`);
		const xml = `<?xml version="1.0"?>\n<!DOCTYPE KeyContainer [\n${lol.join("\n")}\n]>\n<KeyContainer Version="1.0">${plainPackage("&lol9;", "k")}</KeyContainer>`;
		const before = process.memoryUsage().heapUsed;
		const failure = await failureOf(readPSKC(chunks(xml), {}));
		expect(failure).toMatchObject({ seen: 0, error: { name: "TokenFileError", code: "doctype_refused", location: "line 13" } });
		expect(process.memoryUsage().heapUsed - before).toBeLessThan(50 * 1024 * 1024);
	});

	it("an external entity (SYSTEM file:///etc/passwd) is refused; the file's contents never appear", async () => {
		const xml = `<?xml version="1.0"?><!DOCTYPE KeyContainer [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><KeyContainer Version="1.0">${plainPackage("&xxe;", "k")}</KeyContainer>`;
		const failure = await failureOf(readPSKC(chunks(xml), {}));
		expect(failure).toMatchObject({ seen: 0, error: { code: "doctype_refused" } });
		expect(failure.error.message).not.toContain("root:");
		// A parameter entity, and an external DTD, the same.
		for (const doctype of [`<!DOCTYPE KeyContainer [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>`, `<!DOCTYPE KeyContainer SYSTEM "file:///etc/passwd">`]) {
			expect(await failureOf(readPSKC(chunks(`<?xml version="1.0"?>${doctype}<KeyContainer Version="1.0"/>`), {}))).toMatchObject({ seen: 0, error: { code: "doctype_refused" } });
		}
	});

	it("an entity reference without a declaration is not expanded: the XML is invalid", async () => {
		const failure = await failureOf(readPSKC(chunks(`<KeyContainer Version="1.0">${plainPackage("&xxe;", "k")}</KeyContainer>`), {}));
		expect(failure).toMatchObject({ seen: 0, error: { code: "xml_invalid" } });
	});

	it("truncated XML: the packages before the cut are read, then the file fails naming the line", async () => {
		const whole = `<?xml version="1.0"?>\n<KeyContainer Version="1.0">\n${plainPackage("u1", "a")}\n${plainPackage("u2", "b")}\n</KeyContainer>\n`;
		const cut = whole.slice(0, whole.indexOf("<UserId>u2"));
		const failure = await failureOf(readPSKC(chunks(cut), {}));
		expect(failure).toMatchObject({ seen: 1, error: { code: "xml_invalid" } });
		expect(failure.error.location).toMatch(/^line \d+$/);
		expect(await failureOf(readPSKC(chunks(""), {}))).toMatchObject({ seen: 0, error: { code: "not_pskc" } });
	});

	it("not PSKC, not UTF-8, another encoding, another version, two roots: each refused by name", async () => {
		const cases: Array<[string | Buffer, string]> = [
			[`<html><body/></html>`, "not_pskc"],
			[Buffer.concat([Buffer.from(`<KeyContainer Version="1.0"><KeyPackage><Key Id="`), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from(`"/></KeyPackage></KeyContainer>`)]), "not_utf8"],
			[`<?xml version="1.0" encoding="ISO-8859-1"?><KeyContainer Version="1.0"/>`, "unsupported_encoding"],
			[`<KeyContainer Version="2.0"/>`, "unsupported_version"],
			[`<KeyContainer Version="1.0"/><KeyContainer Version="1.0"/>`, "xml_invalid"],
		];
		for (const [input, code] of cases) expect(await failureOf(readPSKC(chunks(input), {}))).toMatchObject({ seen: 0, error: { code } });
	});

	it("bounded buffers: a 10 MB text, a 10 MB comment, deep nesting and a huge package are refused without being held", async () => {
		const big = "A".repeat(10 * 1024 * 1024);
		const cases: Array<[string, string]> = [
			[`<KeyContainer Version="1.0"><KeyPackage><Key Id="k"><Data><Secret><PlainValue>${big}</PlainValue></Secret></Data></Key></KeyPackage></KeyContainer>`, "xml_too_large"],
			[`<KeyContainer Version="1.0"><!--${big}--></KeyContainer>`, "xml_too_large"],
			[`<KeyContainer Version="1.0"><KeyPackage>${"<a>".repeat(100)}${"</a>".repeat(100)}</KeyPackage></KeyContainer>`, "xml_too_deep"],
			[`<KeyContainer Version="1.0"><KeyPackage>${"<a/>".repeat(5000)}</KeyPackage></KeyContainer>`, "xml_too_large"],
		];
		for (const [xml, code] of cases) expect(await failureOf(readPSKC(chunks(xml, 64 * 1024), {}))).toMatchObject({ seen: 0, error: { code } });
	});
});

describe("one KeyPackage's size", () => {
	const text = "B".repeat(60 * 1024);

	it("attack: many elements each under the text bound cannot make one KeyPackage hold more than 256 KiB; the error names the package", async () => {
		// 100 texts of 60 KiB, each under the 64 KiB text bound and far under 2,000 elements: 6 MB in one package.
		const lines = Array.from({ length: 100 }, () => `<Extension>${text}</Extension>`);
		const xml = `<KeyContainer Version="1.0">\n${plainPackage("first", "k1")}\n<KeyPackage>\n${lines.join("\n")}\n${plainPackage("x", "k").slice("<KeyPackage>".length)}\n</KeyContainer>`;
		const failure = await failureOf(readPSKC(chunks(xml, 64 * 1024), {}));
		expect(failure).toMatchObject({ seen: 1, error: { code: "xml_too_large", reason: expect.stringContaining("KeyPackage 2") } });
		expect(failure.error.reason).toContain(String(XML_LIMITS.charactersPerChild));
		// Refused at the fifth text (line 8 of the file), not after the package's 6 MB were held.
		expect(failure.error.location).toBe("line 8");
		// Attribute values count too.
		const attributes = Array.from({ length: 10 }, () => `<Extension a="${text}"/>`).join("");
		const viaAttributes = await failureOf(readPSKC(chunks(`<KeyContainer Version="1.0"><KeyPackage>${attributes}</KeyPackage></KeyContainer>`, 64 * 1024), {}));
		expect(viaAttributes).toMatchObject({ seen: 0, error: { code: "xml_too_large", reason: expect.stringContaining("KeyPackage 1") } });
	});

	it("the bound is per package: packages of 200 KiB each, one after another, are read", async () => {
		const bulky = (id: string) => `<KeyPackage>${`<Extension>${text}</Extension>`.repeat(3)}${plainPackage(id, id).slice("<KeyPackage>".length)}`;
		const xml = `<KeyContainer Version="1.0">${bulky("u1")}${bulky("u2")}${bulky("u3")}</KeyContainer>`;
		const children = await collect(readContainerChildren(chunks(xml, 64 * 1024)));
		expect(children.map((child) => child.packageIndex)).toEqual([1, 2, 3]);
	});
});

describe("cryptographic attacks and mistakes", () => {
	const figure6 = () => fixture("rfc6030-figure6.pskc.xml").toString("utf8");

	it("a wrong MAC refuses the whole file, the same error as a wrong key, and the value is never decrypted", async () => {
		// One bit of the MAC's first bytes (the last base64 character before "=" carries padding bits only).
		const tampered = figure6().replace("Su+NvtQfmvfJzF6bmQiJqoLRExc=", "Su+NvuQfmvfJzF6bmQiJqoLRExc=");
		const failure = await failureOf(readPSKC(chunks(tampered), { preSharedKey: RFC6030_PSK }));
		const wrongKey = await failureOf(readPSKC(chunks(figure6()), { preSharedKey: Buffer.alloc(16, 7) }));
		expect(failure).toMatchObject({ seen: 0, error: { code: "wrong_key_or_mac" } });
		expect(wrongKey).toMatchObject({ seen: 0, error: { code: "wrong_key_or_mac" } });
		expect(failure.error.reason).toBe(wrongKey.error.reason);
		expect(failure.error.reason).not.toMatch(/12345678901234567890|3132333435|Su\+Nv|1122334455/);
	});

	it("an altered ciphertext with the old MAC is refused (the MAC covers IV and ciphertext, RFC 6030 §6.1.1)", async () => {
		const tampered = figure6().replace("AAECAwQFBgcICQoLDA0OD+cI", "AAECAwQFBgcICQoLDA0OD+cJ");
		expect(await failureOf(readPSKC(chunks(tampered), { preSharedKey: RFC6030_PSK }))).toMatchObject({ seen: 0, error: { code: "wrong_key_or_mac" } });
		// Changing the IV (the first block) alone, which CBC would let through as a changed first plaintext block.
		const iv = figure6().replace("AAECAwQFBgcICQoLDA0OD+cI", "AQECAwQFBgcICQoLDA0OD+cI");
		expect(await failureOf(readPSKC(chunks(iv), { preSharedKey: RFC6030_PSK }))).toMatchObject({ seen: 0, error: { code: "wrong_key_or_mac" } });
	});

	it("the MAC is checked before decryption: a badly padded value is a padding fault only when its MAC holds", async () => {
		// Figure 6's MAC key (published in RFC 6030) lets the test write a value whose MAC is right and padding wrong.
		const macKey = Buffer.from("1122334455667788990011223344556677889900", "hex");
		const iv = randomBytes(16);
		const cipher = createCipheriv("aes-128-cbc", RFC6030_PSK, iv).setAutoPadding(false);
		const badlyPadded = Buffer.concat([iv, cipher.update(Buffer.alloc(32, 0x41)), cipher.final()]);
		const withMAC = (mac: Buffer) =>
			figure6()
				.replace(/AAECAwQFBgcICQoLDA0OD\+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv/, badlyPadded.toString("base64"))
				.replace("Su+NvtQfmvfJzF6bmQiJqoLRExc=", mac.toString("base64"));
		const rightMAC = createHmac("sha1", macKey).update(badlyPadded).digest();
		expect(await failureOf(readPSKC(chunks(withMAC(rightMAC)), { preSharedKey: RFC6030_PSK }))).toMatchObject({ error: { code: "pskc_invalid" } });
		// The same bad padding under a wrong MAC never reaches the decryption: the answer is the MAC's, not the padding's.
		const wrongMAC = Buffer.from(rightMAC);
		wrongMAC[0]! ^= 1;
		expect(await failureOf(readPSKC(chunks(withMAC(wrongMAC)), { preSharedKey: RFC6030_PSK }))).toMatchObject({ error: { code: "wrong_key_or_mac" } });
	});

	it("an encrypted value without a ValueMAC, or a file without a MACMethod, is refused rather than decrypted unauthenticated", async () => {
		const noValueMAC = figure6().replace(/<ValueMAC>[\s\S]*?<\/ValueMAC>/, "");
		expect(await failureOf(readPSKC(chunks(noValueMAC), { preSharedKey: RFC6030_PSK }))).toMatchObject({ seen: 0, error: { code: "mac_missing" } });
		const noMACMethod = figure6().replace(/<MACMethod[\s\S]*?<\/MACMethod>/, "");
		expect(await failureOf(readPSKC(chunks(noMACMethod), { preSharedKey: RFC6030_PSK }))).toMatchObject({ seen: 0, error: { code: "mac_missing" } });
		const md5 = figure6().replace("xmldsig#hmac-sha1", "xmldsig-more#hmac-md5");
		expect(await failureOf(readPSKC(chunks(md5), { preSharedKey: RFC6030_PSK }))).toMatchObject({ seen: 0, error: { code: "unsupported_mac" } });
	});

	it("a pre-shared key of the wrong length and a missing key are named; a PBKDF2 count beyond the bound is refused before deriving", async () => {
		expect(await failureOf(readPSKC(chunks(figure6()), { preSharedKey: Buffer.alloc(8) }))).toMatchObject({ error: { code: "key_required" } });
		expect(await failureOf(readPSKC(chunks(figure6()), {}))).toMatchObject({ error: { code: "key_required" } });
		const slow = fixture("rfc6030-figure7.pskc.xml").toString("utf8").replace("<IterationCount>1000<", "<IterationCount>2000000000<");
		const started = Date.now();
		expect(await failureOf(readPSKC(chunks(slow), { passphrase: "qwerty" }))).toMatchObject({ error: { code: "pskc_invalid" } });
		// Two billion PBKDF2 rounds would take many minutes: the bound separates "refused before deriving" from "derived",
		// with room for a whole-suite run on two busy cores.
		expect(Date.now() - started).toBeLessThan(15_000);
	});

	it("a package without a user is a problem; the packages around it are still read", async () => {
		const xml = `<KeyContainer Version="1.0">${plainPackage("u1", "a")}<KeyPackage><Key Id="b" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><Data><Secret><PlainValue>${SECRET}</PlainValue></Secret></Data></Key></KeyPackage>${plainPackage("u3", "c")}</KeyContainer>`;
		const items = await collect(readPSKC(chunks(xml), {}));
		expect(items.map((item) => (item.kind === "record" ? item.record.userId : item.problem.code))).toEqual(["u1", "missing_user", "u3"]);
	});
});

/** A generated PSK-encrypted PSKC file of `count` packages, produced chunk by chunk and never held whole. */
async function* generatedFile(count: number, psk: Buffer, macKey: Buffer): AsyncGenerator<Uint8Array> {
	const encrypt = (plain: Buffer) => {
		const iv = randomBytes(16);
		const cipher = createCipheriv("aes-128-cbc", psk, iv);
		return Buffer.concat([iv, cipher.update(plain), cipher.final()]);
	};
	const method = `<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>`;
	yield Buffer.from(
		`<?xml version="1.0" encoding="UTF-8"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">` +
			`<EncryptionKey><ds:KeyName>Pre-shared-key</ds:KeyName></EncryptionKey><MACMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"><MACKey>${method}<xenc:CipherData><xenc:CipherValue>${encrypt(macKey).toString("base64")}</xenc:CipherValue></xenc:CipherData></MACKey></MACMethod>\n`,
	);
	// Each package carries a 1.5 KB comment, so that the file (about 45 MB) is far larger than the heap bound below.
	const padding = `<!--${"x".repeat(1500)}-->`;
	let batch: string[] = [];
	for (let index = 0; index < count; index++) {
		const value = encrypt(randomBytes(20));
		const mac = createHmac("sha256", macKey).update(value).digest("base64");
		batch.push(
			`<KeyPackage>${padding}<DeviceInfo><SerialNo>${index}</SerialNo></DeviceInfo><Key Id="k${index}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters><Data><Secret><EncryptedValue>${method}<xenc:CipherData><xenc:CipherValue>${value.toString("base64")}</xenc:CipherValue></xenc:CipherData></EncryptedValue><ValueMAC>${mac}</ValueMAC></Secret><TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data><UserId>user-${index}</UserId></Key></KeyPackage>\n`,
		);
		if (batch.length === 50) {
			yield Buffer.from(batch.join(""));
			batch = [];
		}
	}
	yield Buffer.from(`${batch.join("")}</KeyContainer>\n`);
}

describe("bounded memory", () => {
	it("a generated 20,000-package encrypted file (about 45 MB) is read while the live heap stays under 24 MB above its start", async () => {
		setFlagsFromString("--expose-gc");
		const gc = runInNewContext("gc") as () => void;
		const psk = randomBytes(16);
		const macKey = randomBytes(32);
		gc();
		const baseline = process.memoryUsage().heapUsed;
		let peak = 0;
		let count = 0;
		let bytes = 0;
		const input = (async function* () {
			for await (const chunk of generatedFile(20_000, psk, macKey)) {
				bytes += chunk.byteLength;
				yield chunk;
			}
		})();
		for await (const item of readPSKC(input, { preSharedKey: psk })) {
			if (item.kind !== "record") throw new Error(JSON.stringify(item.problem));
			expect(item.record.userId).toBe(`user-${count}`);
			item.record.secret.fill(0);
			count++;
			if (count % 1000 === 0) {
				gc();
				peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
			}
		}
		expect(count).toBe(20_000);
		expect(bytes).toBeGreaterThan(40 * 1024 * 1024);
		expect(peak).toBeLessThan(24 * 1024 * 1024);
	});
});
