import { readFileSync } from "node:fs";
import { type FileHandle, open, unlink } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createApp } from "../app.js";
import { isId } from "../core/id.js";
import { type ExportFormat, type ExportOptions, type ExportResult, runExport } from "../services/exports.js";
import { tenantContext } from "../services/tenant-context.js";
import { PSKC_EXPORT_PBKDF2_ITERATIONS } from "../token-files/pskc-writer.js";
import { applicationTenantRefusal } from "./application-tenant.js";
import { type Command, UsageError } from "./command.js";
import { readHidden } from "./hidden-input.js";

/** Shorter passphrases make an offline guess of a stolen export cheap, whatever PBKDF2 costs per guess. */
export const MIN_PASSPHRASE_LENGTH = 12;

/** Output is gathered into writes of about this size. */
const WRITE_BYTES = 64 * 1024;

/** A user id as the API takes it: 1-128 printable ASCII characters. */
const USER_ID = /^[\x20-\x7e]{1,128}$/;

export const exportCommand: Command = {
	name: "export",
	summary: "export a tenant's TOTP and HOTP factors to an encrypted PSKC file or plaintext otpauth URIs (docs/export.md)",
	usage:
		"twofold export --tenant ID --format pskc|otpauth --out FILE [--users FILE] [--passphrase-fd N] [--i-understand-plaintext] [--json]\n" +
		"    pskc: always encrypted (PBKDF2-HMAC-SHA256, AES-128-CBC, HMAC-SHA256); the passphrase is read from file\n" +
		`    descriptor N or asked for twice (no echo) on a terminal, never an argument; at least ${MIN_PASSPHRASE_LENGTH} characters.\n` +
		"    otpauth: secrets in the clear, so it needs --i-understand-plaintext.\n" +
		"    --out FILE is created with mode 0600 and never overwritten. --users FILE: one user id a line.\n" +
		"    exit 0: written; 1: not written (a file or database fault); 2: usage",
	async run(argv, config, out) {
		// Refused by name, before parsing, so the message says why and not only "unknown option".
		if (argv.some((arg) => arg === "--passphrase" || arg.startsWith("--passphrase="))) {
			throw new UsageError("a passphrase is never an argument (ps and the shell history would show it): use --passphrase-fd N, or run on a terminal to be asked");
		}
		const { values } = parseArgs({
			args: argv,
			options: {
				tenant: { type: "string" },
				format: { type: "string" },
				out: { type: "string" },
				users: { type: "string" },
				"passphrase-fd": { type: "string" },
				"i-understand-plaintext": { type: "boolean" },
				json: { type: "boolean" },
			},
			strict: true,
		});
		if (values.tenant === undefined || !isId("ten", values.tenant)) throw new UsageError("--tenant ID is required (ten_…)");
		const format = values.format;
		if (format !== "pskc" && format !== "otpauth") throw new UsageError("--format must be pskc or otpauth");
		if (values.out === undefined || values.out === "") throw new UsageError("--out FILE is required");
		if (format === "otpauth" && values["i-understand-plaintext"] !== true) {
			throw new UsageError(
				"--format otpauth writes every secret in the clear: anyone who reads the file can make the users' codes. " +
					"Add --i-understand-plaintext if that is what you want, or use --format pskc (encrypted)",
			);
		}
		if (format === "pskc" && values["i-understand-plaintext"] === true) throw new UsageError("--i-understand-plaintext goes with --format otpauth; a PSKC export is always encrypted");
		const fd = values["passphrase-fd"];
		if (fd !== undefined && format !== "pskc") throw new UsageError("--passphrase-fd goes with --format pskc");
		if (fd !== undefined && (!/^[0-9]{1,4}$/.test(fd) || Number(fd) < 3)) throw new UsageError("--passphrase-fd must be a file descriptor number of 3 or more (0-2 are the terminal's)");
		const userIds = values.users === undefined ? undefined : readUserList(values.users);

		const options: ExportOptions = { format: format as ExportFormat };
		if (userIds !== undefined) options.userIds = userIds;
		if (format === "pskc") options.passphrase = await passphrase(fd);

		const app = await createApp(config);
		let file: FileHandle | undefined;
		try {
			const tenant = await app.store.tenants.find(values.tenant);
			const refusal = applicationTenantRefusal(values.tenant, tenant !== undefined);
			if (refusal !== undefined || tenant === undefined) {
				out.stderr(refusal ?? "");
				return 1;
			}
			// "wx": never an existing path (nor a symbolic link planted there); 0600 before the first byte is written.
			try {
				file = await open(values.out, "wx", 0o600);
			} catch (error) {
				const code = (error as NodeJS.ErrnoException).code;
				out.stderr(code === "EEXIST" ? `twofold export: ${values.out} exists; it is never overwritten: name a new file` : `twofold export: cannot create ${values.out} (${code ?? "error"})`);
				return 1;
			}
			await file.chmod(0o600);
			// The CLI acts as the operator: an admin context whose actor is "cli" in the audit log (as `twofold import`).
			const ctx = tenantContext(tenant, { id: "cli", scope: "admin" });
			const handle = file;
			let pending: string[] = [];
			let pendingBytes = 0;
			const flush = async (): Promise<void> => {
				if (pending.length === 0) return;
				await handle.write(pending.join(""));
				pending = [];
				pendingBytes = 0;
			};
			let result: ExportResult;
			try {
				result = await runExport(app.services.deps, ctx, options, async (chunk) => {
					pending.push(chunk);
					pendingBytes += chunk.length;
					if (pendingBytes >= WRITE_BYTES) await flush();
				});
				await flush();
				await handle.sync();
			} catch (error) {
				// A partial file is of no use and may hold secrets: it goes.
				await handle.close().catch(() => undefined);
				file = undefined;
				await unlink(values.out).catch(() => undefined);
				throw error;
			}
			out.stdout(values.json === true ? JSON.stringify({ file: values.out, format, ...result }) : describe(values.out, format, result));
			return 0;
		} finally {
			await file?.close();
			await app.close();
		}
	},
};

async function passphrase(fd: string | undefined): Promise<string> {
	let value: string;
	if (fd !== undefined) {
		try {
			// The descriptor's whole content, one trailing newline removed (what `echo` or a here-string adds).
			value = readFileSync(Number(fd), "utf8").replace(/\r?\n$/, "");
		} catch {
			throw new UsageError(`--passphrase-fd ${fd}: the descriptor is not open for reading`);
		}
	} else {
		if (process.stdin.isTTY !== true) throw new UsageError("a PSKC export needs a passphrase: give --passphrase-fd N, or run on a terminal to be asked");
		value = await readHidden("Passphrase for the PSKC export: ");
		// Asked twice: a mistyped passphrase would make the export unreadable by anyone.
		if ((await readHidden("The same passphrase again: ")) !== value) throw new UsageError("the two passphrases differ");
	}
	if ([...value].length < MIN_PASSPHRASE_LENGTH) throw new UsageError(`the passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`);
	return value;
}

/** One user id a line; blank lines and lines starting with # are skipped. */
function readUserList(path: string): string[] {
	let text: string;
	try {
		text = readFileSync(path, "utf8");
	} catch {
		throw new UsageError(`--users ${path}: cannot read it`);
	}
	const ids: string[] = [];
	for (const [index, raw] of text.split(/\r?\n/).entries()) {
		const line = raw.trim();
		if (line === "" || line.startsWith("#")) continue;
		if (!USER_ID.test(line)) throw new UsageError(`--users ${path}, line ${index + 1}: not a user id (1-128 printable ASCII characters)`);
		ids.push(line);
	}
	return ids;
}

function describe(path: string, format: ExportFormat, result: ExportResult): string {
	const how =
		format === "pskc"
			? `PSKC, PBKDF2-HMAC-SHA256 with ${PSKC_EXPORT_PBKDF2_ITERATIONS.toLocaleString("en")} iterations, AES-128-CBC, HMAC-SHA256`
			: "otpauth URIs, secrets in the clear: delete the file once imported";
	const lines = [`exported ${result.users} users, ${result.factors} factors to ${path} (${how}, mode 0600)`];
	if (result.webauthn_not_exported > 0) {
		lines.push(
			`${result.webauthn_not_exported} WebAuthn factors not exported: a passkey's private key never leaves the authenticator` +
				(result.users_without_exportable_factor > 0 ? ` (${result.users_without_exportable_factor} users had only passkeys and are not in the file)` : ""),
		);
	}
	if (result.listed_users_not_found > 0) lines.push(`${result.listed_users_not_found} listed users have no active factor here and are not in the file`);
	return lines.join("\n");
}
