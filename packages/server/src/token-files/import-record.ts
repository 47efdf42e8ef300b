/**
 * What every token-file reader (token-files/*) yields, and what the import service (services/imports.ts) consumes:
 * one record per token, or one problem per record that could not be read. Readers are streaming async generators
 * over the file's bytes; they never hold the whole file (issue 17: 100,000 users under 250 MB).
 *
 * Secrets travel as bytes and are zeroed by the consumer once sealed (R-ST-1); a reader never logs or echoes them.
 */

export type OTPAlgorithm = "SHA1" | "SHA256" | "SHA512";

/** The formats `twofold import --format` names; "auto" is detected from the first bytes (detect-format.ts). */
export const IMPORT_FORMATS = ["otpauth", "oath-csv", "pskc", "pi-csv", "authelia"] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportRecord {
	/** Where the record is in the file, for the report: "line 12", "KeyPackage 3 (serial 987654321)". Never the secret. */
	location: string;
	/** The Twofold user id (the application's opaque id) this token belongs to. */
	userId: string;
	type: "totp" | "hotp";
	/** The raw shared secret (not base32, not hex). */
	secret: Uint8Array;
	algorithm: OTPAlgorithm;
	digits: number;
	/** TOTP only: the time step in seconds (default 30). */
	period?: number;
	/**
	 * HOTP only: the counter of the token's NEXT code (RFC 4226 §5.2), as the source stores it. Undefined when the
	 * source has none: the factor is then imported needing resynchronization (factors/hotp/resync.ts).
	 */
	counter?: number;
	/** TOTP only: the last time step the source accepted, when it records one (replay fence, R-OTP-1). */
	lastUsedStep?: number;
	/** The source's own stable id for the token (serial, id), used as the import reference when present. */
	serial?: string;
	/** A label for the factor (otpauth label account part, PSKC FriendlyName); defaults to the user id. */
	label?: string;
}

/** A record the reader could not turn into an ImportRecord: reported, never silently dropped. */
export interface ImportProblem {
	location: string;
	/** A stable machine code: "missing_column", "invalid_secret", "unsupported_type", "invalid_digits", … */
	code: string;
	/** What is wrong, in words, naming the field; never the secret's value. */
	reason: string;
	/** When the reader knew the user the record was for. */
	userId?: string;
}

export type ImportItem = { kind: "record"; record: ImportRecord } | { kind: "problem"; problem: ImportProblem };

/**
 * A fault of the whole file, not of one record (not XML, a DOCTYPE, a wrong MAC or passphrase, no header line, a line
 * over the bound): the reader throws it and yields nothing more. `location` says where it was seen.
 */
export class TokenFileError extends Error {
	constructor(
		readonly code: string,
		readonly reason: string,
		readonly location: string,
	) {
		super(`${location}: ${reason}`);
		this.name = "TokenFileError";
	}
}

/** Options that change how a file is read. */
export interface ReadOptions {
	/** CSV formats: the column that holds the user id (name from the header line, or 1-based index). */
	userColumn?: string;
	/** otpauth lists: where the user id comes from when no column is given: the label's account part, or "issuer:account". */
	userFrom?: "label" | "issuer-label";
	/** PSKC: the password for PBKDF2 encryption (RFC 6030 §6.2). */
	passphrase?: string;
	/** PSKC: the pre-shared AES-128 key (RFC 6030 §6.1). */
	preSharedKey?: Uint8Array;
}

/** The shape of every reader: bytes in (chunks as they arrive), items out, in file order. */
export type TokenFileReader = (input: AsyncIterable<Uint8Array>, options: ReadOptions) => AsyncGenerator<ImportItem, void, undefined>;
