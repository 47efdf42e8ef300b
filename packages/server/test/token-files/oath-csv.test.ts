import { describe, expect, it } from "vitest";
import { TokenFileError } from "../../src/token-files/import-record.js";
import { readOathCSV } from "../../src/token-files/oath-csv.js";
import { expectOathtoolAgrees, OATHTOOL } from "./oathtool-check.js";
import { type Expected, fixture, problems, read, records, summary, text } from "./token-file-helpers.js";

const E = "56e2277816fc47d78c267bc6107b2e05c0f94f21";
const F = "33c3e5c1807d1bc2bc002b926b7f4278f448118a";
const G = "5efcc3cfa445e3637ef4792838fd82ddc50d2447";
const RFC4226 = "3132333435363738393031323334353637383930";
const RFC6238_SHA256 = "3132333435363738393031323334353637383930313233343536373839303132";
const RFC6238_SHA512 = "31323334353637383930313233343536373839303132333435363738393031323334353637383930313233343536373839303132333435363738393031323334";

const V2: Expected[] = [
	{ location: "line 2", userId: "alice", type: "totp", hex: E, algorithm: "SHA1", digits: 6, period: 30, serial: "OATH1001" },
	{ location: "line 3", userId: "bob", type: "totp", hex: RFC6238_SHA256, algorithm: "SHA256", digits: 8, period: 60, serial: "OATH1002" },
	{ location: "line 4", userId: "carol", type: "hotp", hex: F, algorithm: "SHA1", digits: 6, counter: 12, serial: "OATH1003" },
	{ location: "line 5", userId: "dave", type: "hotp", hex: G, algorithm: "SHA1", digits: 8, serial: "OATH1004" },
	{ location: "line 7", userId: "frank", type: "totp", hex: RFC6238_SHA512, algorithm: "SHA512", digits: 6, period: 30, serial: "OATH1005" },
];

const V1: Expected[] = [
	{ location: "line 2", userId: "alice", type: "totp", hex: E, algorithm: "SHA1", digits: 6, period: 30, serial: "OATH0001" },
	{ location: "line 3", userId: "bob", type: "hotp", hex: RFC4226, algorithm: "SHA1", digits: 6, counter: 5, serial: "OATH0002" },
];

async function fileFault(promise: Promise<unknown>): Promise<TokenFileError> {
	const error = await promise.then(() => undefined, (caught: unknown) => caught);
	expect(error).toBeInstanceOf(TokenFileError);
	return error as TokenFileError;
}

describe("privacyIDEA OATH CSV", () => {
	it("version 2: the user first; algorithm from the seed's length; the HOTP counter column is the next counter; OCRA refused", async () => {
		const items = await read(readOathCSV, fixture("oath-v2.csv"));
		expect(records(items).map(summary)).toEqual(V2);
		expect(problems(items)).toEqual([{ location: "line 6", code: "unsupported_type", reason: expect.stringContaining("OCRA"), userId: "erin" }]);
	});

	it("version 1 with the user id in a column named by number", async () => {
		const items = await read(readOathCSV, fixture("oath-v1.csv"), { userColumn: "6" });
		expect(problems(items)).toEqual([]);
		expect(records(items).map(summary)).toEqual(V1);
	});

	it.skipIf(!OATHTOOL)("each fixture secret gives oathtool's codes when computed from what the reader returned", async () => {
		records(await read(readOathCSV, fixture("oath-v2.csv"))).forEach((record, index) => expectOathtoolAgrees(record, V2[index]!));
		records(await read(readOathCSV, fixture("oath-v1.csv"), { userColumn: "6" })).forEach((record, index) => expectOathtoolAgrees(record, V1[index]!));
	});

	it("version 1 without --user-column is a file fault, reported once before any record; a column name cannot be used", async () => {
		const missing = await fileFault(read(readOathCSV, fixture("oath-v1.csv")));
		expect(missing.code).toBe("missing_user_column");
		expect(missing.reason).toContain("--user-column");
		expect((await fileFault(read(readOathCSV, fixture("oath-v1.csv"), { userColumn: "user" }))).code).toBe("invalid_user_column");
		expect((await fileFault(read(readOathCSV, text("# version: 3\na, r, realm, S, 3132333435363738393031323334353637383930")))).code).toBe("unsupported_version");
	});

	it("attack: --user-column naming the seed column is an option error naming the column, before any record (the seed would become a user id)", async () => {
		// Version 1: serial, seed, …: the seed is column 2. Version 2: username, resolver, realm, serial, seed, …: column 5.
		const v1 = await fileFault(read(readOathCSV, fixture("oath-v1.csv"), { userColumn: "2" }));
		const v2 = await fileFault(read(readOathCSV, fixture("oath-v2.csv"), { userColumn: " 5 " }));
		for (const [error, column] of [[v1, "column 2"], [v2, "column 5"]] as const) {
			expect(error.code).toBe("invalid_user_column");
			expect(error.location).toBe("options");
			expect(error.reason).toContain(column);
			expect(error.reason).toContain("seed");
			for (const seed of [E, F, G, RFC4226, RFC6238_SHA256]) expect(error.message).not.toContain(seed);
		}
		// Every other column may still be named (the serial, an appended column, version 2's resolver).
		expect(records(await read(readOathCSV, fixture("oath-v1.csv"), { userColumn: "1" })).map((record) => record.userId)).toEqual(["OATH0001", "OATH0002"]);
		expect(records(await read(readOathCSV, fixture("oath-v2.csv"), { userColumn: "4" })).map((record) => record.userId)).toEqual(V2.map((row) => row.serial));
	});

	it("a missing column, a bad field or a bad seed is one problem with the line; the rows after it still read", async () => {
		const seed = RFC4226;
		const rows = [
			"# version: 2",
			"u1, r, realm, S1",
			`u2, r, realm, S2, ${seed}, totp, x`,
			`u3, r, realm, S3, ${seed}, totp, 6, 0`,
			`u4, r, realm, S4, ${seed}, hotp, 6, ten`,
			`u5, r, realm, S5, ${seed}1`,
			`u6, r, realm, S6, ${seed.replace("31", "zz")}`,
			`u7, r, realm, S7, ${"ab".repeat(28)}, totp`,
			`u8, r, realm, S8, 0102030405060708`,
			`, r, realm, S9, ${seed}`,
			`u10, r, realm, , ${seed}`,
			`u11, r, realm, S11, ${seed}, hotp, 9`,
			"# a comment between rows",
			`u12, r, realm, S12, ${seed}`,
		];
		const items = await read(readOathCSV, text(rows.join("\n")));
		expect(problems(items).map((problem) => [problem.location, problem.code, problem.userId])).toEqual([
			["line 2", "missing_column", "u1"],
			["line 3", "invalid_digits", "u2"],
			["line 4", "invalid_period", "u3"],
			["line 5", "invalid_counter", "u4"],
			["line 6", "invalid_secret", "u5"],
			["line 7", "invalid_secret", "u6"],
			["line 8", "unsupported_algorithm", "u7"],
			["line 9", "secret_too_short", "u8"],
			["line 10", "missing_user", undefined],
			["line 11", "missing_column", "u10"],
			["line 12", "invalid_digits", "u11"],
		]);
		// Type and digits default as privacyIDEA's: HOTP, 6 digits, and no counter (so a resync first).
		expect(records(items).map(summary)).toEqual([{ location: "line 14", userId: "u12", type: "hotp", hex: seed, algorithm: "SHA1", digits: 6, serial: "S12" }]);
		const reported = JSON.stringify(problems(items));
		for (const value of [seed, "0102030405060708", "ab".repeat(28)]) expect(reported).not.toContain(value);
	});
});
