import { describe, expect, it } from "vitest";
import { TokenFileError } from "../../src/token-files/import-record.js";
import { readPiCSV } from "../../src/token-files/pi-csv.js";
import { expectOathtoolAgrees, OATHTOOL } from "./oathtool-check.js";
import { type Expected, fixture, problems, read, records, summary, text } from "./token-file-helpers.js";

const E = "56e2277816fc47d78c267bc6107b2e05c0f94f21";
const F = "33c3e5c1807d1bc2bc002b926b7f4278f448118a";
const H = "7e5f1cecf495b6ec2288ecfeb93732878f5b47de";
const RFC6238_SHA256 = "3132333435363738393031323334353637383930313233343536373839303132";

/** pi-tokenjanitor.csv, as `pi-tokenjanitor find export --format csv` writes it (hex seeds). */
const HEX: Expected[] = [
	{ location: "line 1", userId: "alice", type: "totp", hex: E, algorithm: "SHA1", digits: 6, period: 30, serial: "OATH0001" },
	{ location: "line 2", userId: "bob", type: "hotp", hex: F, algorithm: "SHA1", digits: 6, serial: "HOTP0002" },
	{ location: "line 4", userId: "carol@example.com", type: "totp", hex: RFC6238_SHA256, algorithm: "SHA256", digits: 8, period: 30, serial: "TOTP0004" },
];
/** pi-tokenjanitor-b32.csv, as `… export --format csv --b32` writes it. */
const B32: Expected[] = [
	{ location: "line 1", userId: "alice", type: "totp", hex: E, algorithm: "SHA1", digits: 6, period: 30, serial: "OATH0001" },
	{ location: "line 2", userId: "dave", type: "hotp", hex: H, algorithm: "SHA1", digits: 8, serial: "OATH0005" },
];

describe("pi-tokenjanitor CSV (privacyIDEA's export)", () => {
	it("owner login without the realm as the user id; hex seeds; TOTP time step, None meaning 30 s; HOTP without a counter", async () => {
		const items = await read(readPiCSV, fixture("pi-tokenjanitor.csv"));
		expect(records(items).map(summary)).toEqual(HEX);
		expect(records(items).every((record) => record.counter === undefined)).toBe(true);
		expect(problems(items)).toEqual([{ location: "line 3", code: "missing_user", reason: expect.stringContaining("n/a") }]);
	});

	it("--b32 seeds read as base32", async () => {
		const items = await read(readPiCSV, fixture("pi-tokenjanitor-b32.csv"));
		expect(problems(items)).toEqual([]);
		expect(records(items).map(summary)).toEqual(B32);
	});

	it.skipIf(!OATHTOOL)("each fixture secret gives oathtool's codes when computed from what the reader returned", async () => {
		records(await read(readPiCSV, fixture("pi-tokenjanitor.csv"))).forEach((record, index) => expectOathtoolAgrees(record, HEX[index]!));
		records(await read(readPiCSV, fixture("pi-tokenjanitor-b32.csv"))).forEach((record, index) => expectOathtoolAgrees(record, B32[index]!));
	});

	it("--user-column takes a column's whole value instead of the owner's login", async () => {
		const users = records(await read(readPiCSV, fixture("pi-tokenjanitor.csv"), { userColumn: "1" })).map((record) => record.userId);
		expect(users).toEqual(["alice@defrealm", "bob@defrealm", "carol@example.com@defrealm"]);
	});

	it("attack: --user-column 3 (the seed) is an option error naming the column, before any record (the seed would become a user id)", async () => {
		const error = await read(readPiCSV, fixture("pi-tokenjanitor.csv"), { userColumn: "3" }).then(
			() => undefined,
			(caught: unknown) => caught,
		);
		expect(error).toBeInstanceOf(TokenFileError);
		expect(error).toMatchObject({ code: "invalid_user_column", location: "options", reason: expect.stringContaining("column 3") });
		for (const seed of [E, F, RFC6238_SHA256]) expect((error as Error).message).not.toContain(seed);
		expect(records(await read(readPiCSV, fixture("pi-tokenjanitor.csv"), { userColumn: "2" })).map((record) => record.userId)).toEqual(["OATH0001", "HOTP0002", "OATH0003", "TOTP0004"]);
	});

	it("missing columns, other token types and bad seeds are problems naming the column, never the seed", async () => {
		const rows = [
			"u1@r, S1, 3132333435363738393031323334353637383930",
			"u2@r, S2, 3132333435363738393031323334353637383930, totp",
			"u3@r, S3, 3132333435363738393031323334353637383930, spass, 6",
			"u4@r, S4, not a seed!, totp, 6, 30",
			"u5@r, S5, 3132333435363738393031323334353637383930, totp, 6, 5",
			"u6@r, , 3132333435363738393031323334353637383930, totp, 6, 30",
			"u7@r, S7, 3132333435363738393031323334353637383930, totp, 6, 30",
		];
		const items = await read(readPiCSV, text(rows.join("\n")));
		expect(problems(items).map((problem) => [problem.location, problem.code, problem.userId, /column \d/.test(problem.reason)])).toEqual([
			["line 1", "missing_column", "u1", true],
			["line 2", "missing_column", "u2", true],
			["line 3", "unsupported_type", "u3", true],
			["line 4", "invalid_secret", "u4", true],
			["line 5", "invalid_period", "u5", true],
			["line 6", "missing_column", "u6", true],
		]);
		expect(records(items).map((record) => record.userId)).toEqual(["u7"]);
		expect(JSON.stringify(problems(items))).not.toContain("3132333435363738393031323334353637383930");
	});
});
