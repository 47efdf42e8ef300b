import { asciiLowerCase } from "../core/ascii.js";
import { type ImportItem, type OTPAlgorithm, TokenFileError, type TokenFileReader } from "./import-record.js";
import { columnNumber, refuseSeedColumn, splitColumns } from "./csv-columns.js";
import { type Checked, counterField, digitsField, hexSecret, periodField, problem, record, userIdField } from "./record-fields.js";
import { readLines } from "./text-lines.js";

/**
 * privacyIDEA's OATH CSV (privacyIDEA docs, "Import" › "OATH CSV"; privacyidea/lib/importotp.py parseOATHcsv):
 *
 *     <serial>, <seed in hex>, <type>, <otp length>, <time step (TOTP) or counter (HOTP)>
 *
 * and "Import format version 2", announced by a first line `# version: 2`, which puts the user first:
 *
 *     <username>, <resolver>, <realm>, <serial>, <seed>, <type>, …
 *
 * As privacyIDEA reads it: columns split on "," and trimmed, "#" lines skipped, the type HOTP when absent, 6 digits
 * when absent, a 30 s time step when absent, and the hash algorithm taken from the seed's length (64 hex digits
 * SHA256, 128 SHA512, otherwise SHA1: TokenClass.get_import_csv). The HOTP counter column is privacyIDEA's
 * token count, the counter of the next code (it stores matched + 1 after each success: TokenClass.inc_otp_counter),
 * which is what ImportRecord.counter holds.
 *
 * The user id: the column `userColumn` names (1 is the first column, counting version 2's user columns), else in
 * version 2 the username. A version 1 file without `userColumn` has no user to import into: a file fault, reported
 * once. `userColumn` naming the seed column is refused (refuseSeedColumn).
 */
export const readOathCSV: TokenFileReader = async function* (input, options) {
	let version: 1 | 2 | undefined;
	let userColumn = 0;
	for await (const line of readLines(input)) {
		const text = line.text.trim();
		if (text === "") continue;
		const location = `line ${line.number}`;
		if (version === undefined) {
			const declared = /^#\s*version:\s*(\d+)\s*$/i.exec(text);
			if (declared !== null && declared[1] !== "1" && declared[1] !== "2") {
				throw new TokenFileError("unsupported_version", "the file declares an OATH CSV version other than 1 or 2", location);
			}
			version = declared?.[1] === "2" ? 2 : 1;
			if (options.userColumn !== undefined) {
				userColumn = columnNumber(options.userColumn);
				refuseSeedColumn(userColumn, (version === 2 ? 3 : 0) + 1);
			} else if (version === 1) {
				throw new TokenFileError(
					"missing_user_column",
					"an OATH CSV file of version 1 has no user column: add the user ids as a column and name it (--user-column N, 1 for the first), or write version 2 (a first line \"# version: 2\", then username, resolver, realm before each token)",
					location,
				);
			}
			if (declared !== null) continue;
		}
		if (text.startsWith("#")) continue;
		yield readRow(splitColumns(text), version === 2 ? 3 : 0, userColumn, location);
	}
};

function readRow(columns: string[], offset: number, userColumn: number, location: string): ImportItem {
	const user = userIdField(columns[userColumn]);
	const userId = user.ok ? user.value : undefined;
	if (!user.ok) {
		return problem(location, user.code, user.code === "missing_user" ? `no user id in column ${userColumn + 1}` : user.reason);
	}
	const serial = columns[offset];
	const seed = columns[offset + 1];
	if (serial === undefined || serial === "") return problem(location, "missing_column", `no serial in column ${offset + 1}`, userId);
	if (seed === undefined || seed === "") return problem(location, "missing_column", `no seed in column ${offset + 2}`, userId);
	const typeText = columns[offset + 2];
	const type = typeText === undefined || typeText === "" ? "hotp" : asciiLowerCase(typeText);
	if (type !== "hotp" && type !== "totp") {
		return problem(location, "unsupported_type", `the token type in column ${offset + 3} is not HOTP or TOTP (OCRA, TAN and others cannot be imported)`, userId);
	}
	const digits = digitsField(columns[offset + 3]);
	if (!digits.ok) return problem(location, digits.code, `column ${offset + 4}: ${digits.reason}`, userId);
	const fifth = columns[offset + 4];
	let period: number | undefined;
	let counter: number | undefined;
	if (type === "totp") {
		const checked = periodField(fifth);
		if (!checked.ok) return problem(location, checked.code, `column ${offset + 5}: ${checked.reason}`, userId);
		period = checked.value;
	} else if (fifth !== undefined && fifth !== "") {
		const checked = counterField(fifth);
		if (!checked.ok) return problem(location, checked.code, `column ${offset + 5}: ${checked.reason}`, userId);
		counter = checked.value;
	}
	const algorithm = algorithmFromSeedLength(seed.length / 2);
	if (!algorithm.ok) return problem(location, algorithm.code, algorithm.reason, userId);
	const secret = hexSecret(seed, `seed in column ${offset + 2}`);
	if (!secret.ok) return problem(location, secret.code, secret.reason, userId);
	return record({ location, userId: user.value, type, secret: secret.value, algorithm: algorithm.value, digits: digits.value, period, counter, serial });
}

/**
 * privacyIDEA's rule for seed files that carry no hash algorithm (TokenClass.get_import_csv): 32 bytes mean SHA256,
 * 64 SHA512, 28 and 48 SHA224 and SHA384 (which no authenticator app computes, and neither do we), any other length
 * SHA1.
 */
export function algorithmFromSeedLength(bytes: number): Checked<OTPAlgorithm> {
	if (bytes === 32) return { ok: true, value: "SHA256" };
	if (bytes === 64) return { ok: true, value: "SHA512" };
	if (bytes === 28 || bytes === 48) {
		return { ok: false, code: "unsupported_algorithm", reason: `a ${bytes}-byte seed means ${bytes === 28 ? "SHA224" : "SHA384"} to privacyIDEA; only SHA1, SHA256 and SHA512 are supported` };
	}
	return { ok: true, value: "SHA1" };
}
