import { asciiLowerCase } from "../core/ascii.js";
import type { ImportItem, TokenFileReader } from "./import-record.js";
import { columnNumber, refuseSeedColumn, splitColumns } from "./csv-columns.js";
import { algorithmFromSeedLength } from "./oath-csv.js";
import { base32Secret, type Checked, digitsField, discard, hexSecret, periodField, problem, record, userIdField } from "./record-fields.js";
import { readLines } from "./text-lines.js";

/**
 * The CSV that privacyIDEA's `pi-tokenjanitor find … export --format csv [--b32]` writes (privacyidea/cli/pitokenjanitor,
 * the `export` command; HOTP and TOTP tokens only), one token a line, no header, fields joined by ", ":
 *
 *     <login>@<realm>, <serial>, <seed>, <type>, <otp length>[, <time step>]
 *
 * The owner is "n/a" for a token without a user (or with `--no-user`); the seed is hex, or base32 with `--b32`; the
 * time step is written for TOTP only, "None" when the token has none recorded (privacyIDEA then uses 30 s). The file
 * holds neither the hash algorithm nor the HOTP counter: the algorithm is taken from the seed's length as privacyIDEA
 * does for seed files (oath-csv.ts), and HOTP tokens come without a counter, so they are imported needing
 * resynchronization (factors/hotp/resync.ts). privacyIDEA's PSKC export keeps both: prefer it for SHA256 tokens with
 * 20-byte seeds and for HOTP tokens.
 *
 * The user id: the column `userColumn` names (its whole value), else the owner's login, the owner without its last
 * "@realm" (privacyIDEA's realm has no meaning here; the login is the user's name in the application).
 */
export const readPiCSV: TokenFileReader = async function* (input, options) {
	const userColumn = options.userColumn === undefined ? undefined : columnNumber(options.userColumn);
	if (userColumn !== undefined) refuseSeedColumn(userColumn, SEED_COLUMN);
	for await (const line of readLines(input)) {
		const text = line.text.trim();
		if (text === "" || text.startsWith("#")) continue;
		yield readRow(splitColumns(text), userColumn, `line ${line.number}`);
	}
};

/** The seed's column (0-based): `<login>@<realm>, <serial>, <seed>, …`. */
const SEED_COLUMN = 2;

function readRow(columns: string[], userColumn: number | undefined, location: string): ImportItem {
	// "n/a" is the export's owner for a token without a user, also when column 1 is named as the user column.
	const chosen = userColumn === undefined ? login(columns[0]) : userColumn === 0 && columns[0] === "n/a" ? undefined : columns[userColumn];
	const user = userIdField(chosen);
	if (!user.ok) {
		const reason =
			user.code !== "missing_user"
				? user.reason
				: userColumn === undefined
					? "the token has no owner (n/a) in column 1"
					: `no user id in column ${userColumn + 1}`;
		return problem(location, user.code, reason);
	}
	const userId = user.value;
	const [, serial, seed, typeText, digitsText, stepText] = columns;
	if (serial === undefined || serial === "") return problem(location, "missing_column", "no serial in column 2", userId);
	if (seed === undefined || seed === "") return problem(location, "missing_column", "no seed in column 3", userId);
	if (typeText === undefined || typeText === "") return problem(location, "missing_column", "no token type in column 4", userId);
	const type = asciiLowerCase(typeText);
	if (type !== "hotp" && type !== "totp") return problem(location, "unsupported_type", "the token type in column 4 is not hotp or totp", userId);
	if (digitsText === undefined || digitsText === "") return problem(location, "missing_column", "no OTP length in column 5", userId);
	const digits = digitsField(digitsText);
	if (!digits.ok) return problem(location, digits.code, `column 5: ${digits.reason}`, userId);
	let period: number | undefined;
	if (type === "totp") {
		const checked = periodField(stepText === "None" ? undefined : stepText);
		if (!checked.ok) return problem(location, checked.code, `column 6: ${checked.reason}`, userId);
		period = checked.value;
	}
	const secret = seedSecret(seed);
	if (!secret.ok) return problem(location, secret.code, secret.reason, userId);
	const algorithm = algorithmFromSeedLength(secret.value.length);
	if (!algorithm.ok) {
		discard(secret);
		return problem(location, algorithm.code, algorithm.reason, userId);
	}
	return record({ location, userId, type, secret: secret.value, algorithm: algorithm.value, digits: digits.value, period, serial });
}

/**
 * hexlify writes lower case, base32 (RFC 4648, with "=" padding) upper case: lower-case hex digits are hex, anything
 * else base32. A seed of digits 2-7 alone would be both; privacyIDEA writes hex unless asked, so hex it is.
 */
function seedSecret(seed: string): Checked<Uint8Array> {
	return /^[0-9a-f]+$/.test(seed) ? hexSecret(seed, "seed in column 3") : base32Secret(seed, "seed in column 3 (neither lower-case hex nor base32)");
}

function login(owner: string | undefined): string | undefined {
	if (owner === undefined || owner === "" || owner === "n/a") return undefined;
	const at = owner.lastIndexOf("@");
	return at > 0 ? owner.slice(0, at) : owner;
}
