import { readAutheliaYAML } from "./authelia-yaml.js";
import { type ImportFormat, type ImportItem, type ReadOptions, TokenFileError, type TokenFileReader } from "./import-record.js";
import { readOathCSV } from "./oath-csv.js";
import { readOtpauthList } from "./otpauth-list.js";
import { readPiCSV } from "./pi-csv.js";
import { readPSKC } from "./pskc-reader.js";

/** Each format's reader. pi-tokenjanitor's PSKC export is RFC 6030 PSKC and goes through the same reader. */
const READERS: Record<ImportFormat, TokenFileReader> = {
	otpauth: readOtpauthList,
	"oath-csv": readOathCSV,
	pskc: readPSKC,
	"pi-csv": readPiCSV,
	authelia: readAutheliaYAML,
};

/**
 * A token file's items, in file order, as its bytes arrive (the one entry point of token-files for the import service,
 * services/imports.ts). A record that cannot be read is an ImportItem of kind "problem"; a fault of the whole file is
 * a TokenFileError thrown where it is found, after the items before it.
 */
export async function* readTokenFile(input: AsyncIterable<Uint8Array>, format: ImportFormat, options: ReadOptions): AsyncGenerator<ImportItem, void, undefined> {
	// An option the format has no use for is refused rather than ignored: the operator meant it to change something.
	if (options.userFrom !== undefined && format !== "otpauth") {
		throw new TokenFileError("option_not_applicable", "--user-from applies to otpauth lists only (the other formats name the user in a field or a column)", "options");
	}
	if (options.userColumn !== undefined && (format === "authelia" || format === "pskc")) {
		throw new TokenFileError("option_not_applicable", `--user-column does not apply to ${format === "pskc" ? "PSKC (the user is the UserId element)" : "Authelia's export (the user is the username field)"}`, "options");
	}
	yield* READERS[format](input, options);
}
