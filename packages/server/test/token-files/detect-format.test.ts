import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DETECT_BYTES, detectFormat } from "../../src/token-files/detect-format.js";
import { FIXTURES, fixture, text } from "./token-file-helpers.js";

describe("format detection from the first bytes", () => {
	it("names each text fixture's format", () => {
		expect(detectFormat(fixture("otpauth-label.txt"))).toBe("otpauth");
		expect(detectFormat(fixture("otpauth-columns.csv"))).toBe("otpauth");
		expect(detectFormat(fixture("otpauth-columns.tsv"))).toBe("otpauth");
		expect(detectFormat(fixture("oath-v1.csv"))).toBe("oath-csv");
		expect(detectFormat(fixture("oath-v2.csv"))).toBe("oath-csv");
		expect(detectFormat(fixture("pi-tokenjanitor.csv"))).toBe("pi-csv");
		expect(detectFormat(fixture("pi-tokenjanitor-b32.csv"))).toBe("pi-csv");
		expect(detectFormat(fixture("authelia.export.totp.yml"))).toBe("authelia");
	});

	it("PSKC by its XML declaration or its KeyContainer element, with or without a namespace prefix, after a BOM", () => {
		expect(detectFormat(text('<?xml version="1.0" encoding="UTF-8"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">'))).toBe("pskc");
		expect(detectFormat(text('\uFEFF  <pskc:KeyContainer xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0">'))).toBe("pskc");
		expect(detectFormat(text("<KeyContainer Version=\"1.0\">"))).toBe("pskc");
		// privacyIDEA's export, lower-cased by BeautifulSoup, and every other PSKC fixture.
		const pskc = readdirSync(FIXTURES).filter((name) => name.endsWith(".pskc.xml"));
		expect(pskc).toContain("pi-tokenjanitor.pskc.xml");
		for (const name of pskc) expect(detectFormat(fixture(name)), name).toBe("pskc");
	});

	it("privacyIDEA's own samples: serial and seed alone are OATH CSV; a row of OCRA too; an owner with @realm is pi-tokenjanitor", () => {
		expect(detectFormat(text("tok1, 1212\ntok2, 1212, totp, 6\n"))).toBe("oath-csv");
		expect(detectFormat(text("OCRA1, 3132333435363738393031323334353637383930, OCRA, OCRA-1:HOTP-SHA1-6:QN08\n"))).toBe("oath-csv");
		expect(detectFormat(text("n/a, OATH0001, 3132333435363738393031323334353637383930, totp, 6, 30"))).toBe("pi-csv");
		// A numeric serial is hex too: the type's column tells the two apart.
		expect(detectFormat(text("bob@realm, 00123456, 3132333435363738393031323334353637383930, hotp, 6"))).toBe("pi-csv");
	});

	it("undefined when unsure: the caller then asks for --format", () => {
		for (const unsure of ["", "\n\n", "hello world\n", '{"totp_configurations": []}', "<html><body>", "name,secret\nalice,JBSWY3DPEHPK3PXP\n", "users:\n  - john\n"]) {
			expect(detectFormat(text(unsure)), JSON.stringify(unsure)).toBeUndefined();
		}
	});

	it("looks at the first 64 KiB only, and not at a line the limit cut in two", () => {
		const comments = `# ${"c".repeat(98)}\n`.repeat(Math.ceil(DETECT_BYTES / 100) + 10);
		expect(detectFormat(text(`${comments}otpauth://totp/a?secret=JBSWY3DPEHPK3PXP\n`))).toBeUndefined();
		const cut = `${"#".repeat(DETECT_BYTES - 20)}\ntok1, 1212, totp, 6, 30, and more columns than OATH has\n`;
		expect(detectFormat(text(cut))).toBeUndefined();
	});
});
