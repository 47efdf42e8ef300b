import { describe, expect, it } from "vitest";
import { TokenFileError } from "../../src/token-files/import-record.js";
import { readOtpauthList } from "../../src/token-files/otpauth-list.js";
import { expectOathtoolAgrees, OATHTOOL } from "./oathtool-check.js";
import { type Expected, fixture, problems, read, records, summary, text } from "./token-file-helpers.js";

const E = "56e2277816fc47d78c267bc6107b2e05c0f94f21";
const F = "33c3e5c1807d1bc2bc002b926b7f4278f448118a";
const G = "5efcc3cfa445e3637ef4792838fd82ddc50d2447";
const H = "7e5f1cecf495b6ec2288ecfeb93732878f5b47de";
const RFC4226 = "3132333435363738393031323334353637383930";
const RFC6238_SHA256 = "3132333435363738393031323334353637383930313233343536373839303132";

/** otpauth-label.txt: the label's account part as the user id (--user-from label). */
const LABEL: Expected[] = [
	{ location: "line 2", userId: "alice@example.com", type: "totp", hex: E, algorithm: "SHA1", digits: 6, period: 30 },
	{ location: "line 4", userId: "bob@example.com", type: "totp", hex: RFC6238_SHA256, algorithm: "SHA256", digits: 8, period: 60 },
	{ location: "line 5", userId: "carol@example.com", type: "hotp", hex: F, algorithm: "SHA1", digits: 6, counter: 42 },
	{ location: "line 6", userId: "dave@example.com", type: "totp", hex: "48656c6c6f21deadbeef", algorithm: "SHA1", digits: 6, period: 30 },
];

describe("otpauth lists (Key Uri Format, one URI a line)", () => {
	it("--user-from label: every URI read with its secret, algorithm, digits, period and next HOTP counter", async () => {
		const items = await read(readOtpauthList, fixture("otpauth-label.txt"), { userFrom: "label" });
		expect(problems(items)).toEqual([]);
		expect(records(items).map(summary)).toEqual(LABEL);
		expect(records(items).map((record) => record.label)).toEqual(["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]);
	});

	it.skipIf(!OATHTOOL)("each fixture secret gives oathtool's codes when computed from what the reader returned", async () => {
		const items = records(await read(readOtpauthList, fixture("otpauth-label.txt"), { userFrom: "label" }));
		items.forEach((record, index) => expectOathtoolAgrees(record, LABEL[index]!));
		const columns = records(await read(readOtpauthList, fixture("otpauth-columns.tsv"), { userColumn: "id" }));
		expectOathtoolAgrees(columns[0]!, { location: "line 2", userId: "42", type: "totp", hex: H, algorithm: "SHA1", digits: 6, period: 30 });
		expectOathtoolAgrees(columns[1]!, { location: "line 3", userId: "43", type: "hotp", hex: RFC4226, algorithm: "SHA1", digits: 6, counter: 0 });
	});

	it("--user-from issuer-label: issuer:account; a URI without an issuer is a missing_user problem, the others still read", async () => {
		const items = await read(readOtpauthList, fixture("otpauth-label.txt"), { userFrom: "issuer-label" });
		expect(records(items).map((record) => record.userId)).toEqual(["ACME Co:alice@example.com", "ACME Co:bob@example.com", "ACME Co:carol@example.com"]);
		expect(problems(items)).toEqual([{ location: "line 6", code: "missing_user", reason: expect.stringContaining("--user-from issuer-label") }]);
	});

	it("without a column or --user-from, a bare URI has no user: one problem a line, naming the options", async () => {
		const found = problems(await read(readOtpauthList, fixture("otpauth-label.txt")));
		expect(found.map((problem) => [problem.location, problem.code])).toEqual([
			["line 2", "missing_user"],
			["line 4", "missing_user"],
			["line 5", "missing_user"],
			["line 6", "missing_user"],
		]);
		expect(found[0]!.reason).toMatch(/--user-column.*--user-from/);
	});

	it("userid,uri lines (CRLF, a header): the one column before the URI is the user id", async () => {
		const items = await read(readOtpauthList, fixture("otpauth-columns.csv"));
		expect(problems(items)).toEqual([]);
		expect(records(items).map(summary)).toEqual([
			{ location: "line 2", userId: "alice", type: "totp", hex: E, algorithm: "SHA1", digits: 6, period: 30 },
			{ location: "line 3", userId: "bob", type: "hotp", hex: G, algorithm: "SHA1", digits: 8, counter: 7 },
		]);
	});

	it("tab-separated columns after a BOM: --user-column by header name or number; several columns and no choice is a problem", async () => {
		for (const userColumn of ["id", "1"]) {
			const items = await read(readOtpauthList, fixture("otpauth-columns.tsv"), { userColumn });
			expect(records(items).map((record) => [record.userId, record.type, record.label])).toEqual([
				["42", "totp", "alice"],
				["43", "hotp", "bob"],
			]);
		}
		const named = records(await read(readOtpauthList, fixture("otpauth-columns.tsv"), { userColumn: "name" })).map((record) => record.userId);
		expect(named).toEqual(["Alice Liddell", "Bob"]);
		expect(problems(await read(readOtpauthList, fixture("otpauth-columns.tsv"))).map((problem) => problem.code)).toEqual(["missing_user", "missing_user"]);
		const unknown = await read(readOtpauthList, fixture("otpauth-columns.tsv"), { userColumn: "email" }).catch((error: unknown) => error);
		expect(unknown).toBeInstanceOf(TokenFileError);
		expect((unknown as TokenFileError).code).toBe("invalid_user_column");
	});

	it("malformed URIs are problems with a code and a line, never an exception, and never repeat the secret", async () => {
		const secret = "K3RCO6AW7RD5PDBGPPDBA6ZOAXAPSTZB";
		const lines = [
			`u1,otpauth://totp/A:u1?secret=K3RCO6AW7RD5PDBGPPDBA6ZOAXAPSTZ1`, // 1 is not base32
			`u2,otpauth://totp/A:u2?secret=${secret}&digits=9`,
			`u3,otpauth://totp/A:u3?secret=${secret}&algorithm=MD5`,
			`u4,otpauth://steam/A:u4?secret=${secret}`,
			`u5,otpauth://totp/A:u5?secret=${secret}&secret=${secret}`,
			`u6,otpauth://totp/A%E0%A4:u6?secret=${secret}`,
			`u7,otpauth://totp/A:u7?secret=${secret}&period=7`,
			`u8,otpauth://hotp/A:u8?secret=${secret}&counter=-1`,
			`u9,otpauth://totp/A:u9?issuer=A`,
			`u10,otpauth://totp/A:u10?secret=JBSWY3DPEHPK`, // 56 bits
			`u11,otpauth://totp?secret=${secret}`,
			`this line has no URI`,
			`u13 otpauth://totp/A:u13?secret=${secret}`,
			`u14,otpauth://totp/A:u14?secret=${secret}`,
		];
		const items = await read(readOtpauthList, text(lines.join("\n")));
		expect(problems(items).map((problem) => [problem.location, problem.code, problem.userId])).toEqual([
			["line 1", "invalid_secret", "u1"],
			["line 2", "invalid_digits", "u2"],
			["line 3", "unsupported_algorithm", "u3"],
			["line 4", "unsupported_type", "u4"],
			["line 5", "invalid_uri", "u5"],
			["line 6", "invalid_uri", "u6"],
			["line 7", "invalid_period", "u7"],
			["line 8", "invalid_counter", "u8"],
			["line 9", "missing_secret", "u9"],
			["line 10", "secret_too_short", "u10"],
			["line 11", "invalid_uri", "u11"],
			["line 12", "invalid_uri", undefined],
			["line 13", "invalid_uri", undefined],
		]);
		expect(records(items).map((record) => [record.location, record.userId])).toEqual([["line 14", "u14"]]);
		const reported = JSON.stringify(problems(items));
		for (const value of [secret, "K3RCO6AW7RD5PDBGPPDBA6ZOAXAPSTZ1", "JBSWY3DPEHPK"]) expect(reported).not.toContain(value);
	});

	it("the label splits at its first literal colon; encoded colons belong to the issuer or account; only the spaces after the colon go", async () => {
		const secret = "K3RCO6AW7RD5PDBGPPDBA6ZOAXAPSTZB";
		const lines = [
			`otpauth://totp/Acme%3A%20EU:%20bob?secret=${secret}&issuer=Acme%3A%20EU`, // the format's optional %20 after the colon
			`otpauth://totp/Acme%3A%20EU:bob%20?secret=${secret}&issuer=Acme%3A%20EU`, // a trailing space is the user id's own
			`otpauth://totp/Acme%3A%20EU:a%3Ab?secret=${secret}&issuer=Acme%3A%20EU`, // an encoded colon in the account
			`otpauth://totp/Provider%3Aalice?secret=${secret}`, // the format's encoded separator, no issuer parameter
			`otpauth://totp/Provider%3A%20carol?secret=${secret}&issuer=Provider`, // the same after the issuer parameter
			`otpauth://totp/%20dave?secret=${secret}&issuer=Acme%3A%20EU`, // no "issuer:" prefix: the account alone, spaces kept
			`otpauth://totp/%20e%3Af?secret=${secret}&issuer=Acme`,
		];
		const label = await read(readOtpauthList, text(lines.join("\n")), { userFrom: "label" });
		expect(problems(label)).toEqual([]);
		expect(records(label).map((record) => record.userId)).toEqual(["bob", "bob ", "a:b", "alice", "carol", " dave", " e:f"]);
		const issuerLabel = await read(readOtpauthList, text(lines.join("\n")), { userFrom: "issuer-label" });
		expect(problems(issuerLabel)).toEqual([]);
		expect(records(issuerLabel).map((record) => record.userId)).toEqual(["Acme: EU:bob", "Acme: EU:bob ", "Acme: EU:a:b", "Provider:alice", "Provider:carol", "Acme: EU: dave", "Acme: e:f"]);
	});

	it("--user-from issuer-label refuses a URI whose label issuer and issuer parameter differ", async () => {
		const items = await read(readOtpauthList, text("otpauth://totp/Bank:alice?secret=K3RCO6AW7RD5PDBGPPDBA6ZOAXAPSTZB&issuer=Evil"), { userFrom: "issuer-label" });
		expect(problems(items).map((problem) => problem.code)).toEqual(["issuer_mismatch"]);
	});

	it("an HOTP URI without a counter reads with no counter (the import then needs a resync), TOTP defaults apply", async () => {
		const [hotp, totp] = records(
			await read(readOtpauthList, text("h,otpauth://hotp/h?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\nt,otpauth://TOTP/t?secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojq====")),
		);
		expect(hotp!.counter).toBeUndefined();
		expect(summary(totp!)).toEqual({ location: "line 2", userId: "t", type: "totp", hex: RFC4226, algorithm: "SHA1", digits: 6, period: 30 });
	});
});
