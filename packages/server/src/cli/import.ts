import { createReadStream, readFileSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { createApp } from "../app.js";
import { isId } from "../core/id.js";
import { ServiceError } from "../contract/service-error.js";
import type { ImportOptions, ImportReport } from "../services/import-types.js";
import { runImport } from "../services/imports.js";
import { tenantContext } from "../services/tenant-context.js";
import { IMPORT_FORMATS, type ImportFormat } from "../token-files/import-record.js";
import { applicationTenantRefusal } from "./application-tenant.js";
import { type Command, UsageError } from "./command.js";
import { heapBound } from "./heap-bound.js";
import { readHidden } from "./hidden-input.js";
import { progressView } from "./progress.js";

/** Exit codes (docs/import.md): every record created or skipped; some records invalid; a job failed (a file fault). */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_INVALID = 3;

/** How much of a PSKC file is looked at for a password-based key (RFC 6030 §6.2: it is in the header, before any KeyPackage). */
const PSKC_HEADER_BYTES = 64 * 1024;

export const importCommand: Command = {
	name: "import",
	summary: "import TOTP and HOTP tokens from files other 2FA systems export, as active factors (docs/import.md)",
	usage:
		"twofold import --tenant ID [--format auto|otpauth|oath-csv|pskc|pi-csv|authelia] [--user-column C] [--user-from label|issuer-label]\n" +
		"               [--dry-run] [--replace --reason TEXT] [--passphrase-fd N] [--psk-file PATH] [--json] FILE…\n" +
		"    FILE - reads standard input; several files are imported one after the other, one report each.\n" +
		"    A PSKC passphrase is read from file descriptor N, or asked for (no echo) on a terminal; never an argument.\n" +
		"    exit 0: every record created or skipped; 3: some records invalid; 1: a job failed (a fault of the file); 2: usage",
	async run(argv, config, out) {
		const { values, positionals } = parseArgs({
			args: argv,
			options: {
				tenant: { type: "string" },
				format: { type: "string", default: "auto" },
				"user-column": { type: "string" },
				"user-from": { type: "string" },
				"dry-run": { type: "boolean" },
				replace: { type: "boolean" },
				reason: { type: "string" },
				"passphrase-fd": { type: "string" },
				"psk-file": { type: "string" },
				json: { type: "boolean" },
			},
			allowPositionals: true,
			strict: true,
		});
		if (values.tenant === undefined || !isId("ten", values.tenant)) throw new UsageError("--tenant ID is required (ten_…)");
		const format = values.format as ImportFormat | "auto";
		if (format !== "auto" && !IMPORT_FORMATS.includes(format)) throw new UsageError(`--format must be auto or one of ${IMPORT_FORMATS.join(", ")}`);
		const userFrom = values["user-from"];
		if (userFrom !== undefined && userFrom !== "label" && userFrom !== "issuer-label") throw new UsageError("--user-from must be label or issuer-label");
		if (values.replace === true && (values.reason === undefined || values.reason.trim() === "")) throw new UsageError("--replace needs --reason TEXT (recorded in the audit log)");
		if (values.reason !== undefined && values.replace !== true) throw new UsageError("--reason goes with --replace");
		if (values.reason !== undefined && values.reason.length > 500) throw new UsageError("--reason is at most 500 characters");
		if (positionals.length === 0) throw new UsageError("name at least one FILE (- for standard input)");
		if (positionals.filter((file) => file === "-").length > 1) throw new UsageError("standard input (-) can be read only once");
		const fd = values["passphrase-fd"];
		if (fd !== undefined && (!/^[0-9]{1,4}$/.test(fd) || Number(fd) < 3)) throw new UsageError("--passphrase-fd must be a file descriptor number of 3 or more (0-2 are the terminal's)");
		if (fd !== undefined && positionals.includes("-") && Number(fd) === 0) throw new UsageError("standard input cannot carry both the file and the passphrase");

		let passphrase = fd === undefined ? undefined : readPassphraseFd(Number(fd));
		const preSharedKey = values["psk-file"] === undefined ? undefined : readKeyFile(values["psk-file"]);
		const base: ImportOptions = { format, dryRun: values["dry-run"] === true };
		if (values["user-column"] !== undefined) base.userColumn = values["user-column"];
		if (userFrom !== undefined) base.userFrom = userFrom;
		if (values.replace === true && values.reason !== undefined) base.replaceReason = values.reason;
		for (const file of positionals) {
			if (file !== "-") {
				try {
					statSync(file);
				} catch {
					out.stderr(`twofold import: cannot read ${file}`);
					return EXIT_FAILED;
				}
			}
		}

		const app = await createApp(config);
		// The worst outcome over all files decides the exit code.
		let failed = false;
		let invalid = false;
		// Ctrl-C or SIGTERM: the running job ends failed ("interrupted") before the process exits with 1, so it does not
		// stay "running" (issue 17 review, item 2). A second signal is not waited for: the default handlers come back.
		const interrupt = new AbortController();
		const onSignal = (): void => {
			process.off("SIGINT", onSignal);
			process.off("SIGTERM", onSignal);
			interrupt.abort();
			// The file (or standard input, which would keep the process alive) is not read further.
			reading?.destroy();
		};
		let reading: { destroy(): unknown } | undefined;
		process.on("SIGINT", onSignal);
		process.on("SIGTERM", onSignal);
		try {
			const tenant = await app.store.tenants.find(values.tenant);
			const refusal = applicationTenantRefusal(values.tenant, tenant !== undefined);
			if (refusal !== undefined || tenant === undefined) {
				out.stderr(refusal ?? "");
				return EXIT_FAILED;
			}
			// The CLI acts as the operator: an admin context whose actor is "cli" in the audit log (as `twofold clients`).
			const ctx = tenantContext(tenant, { id: "cli", scope: "admin" });
			const bound = heapBound();
			for (const file of positionals) {
				// A terminal and no descriptor: ask once, only for a PSKC file whose header says it is password-encrypted.
				if (passphrase === undefined && preSharedKey === undefined && file !== "-" && process.stdin.isTTY === true && (await needsPassphrase(file, format))) {
					passphrase = await readHidden(`PSKC passphrase for ${basename(file)}: `);
				}
				if (interrupt.signal.aborted) break;
				const options: ImportOptions = { ...base, sourceName: file === "-" ? "stdin" : basename(file), signal: interrupt.signal };
				if (passphrase !== undefined) options.passphrase = passphrase;
				if (preSharedKey !== undefined) options.preSharedKey = preSharedKey;
				const totalBytes = file === "-" ? undefined : statSync(file).size;
				const view = progressView(values.json === true ? "none" : process.stderr.isTTY === true ? "bar" : "lines", file === "-" ? "stdin" : basename(file), totalBytes, out.stderr);
				let report: ImportReport;
				try {
					const input = file === "-" ? process.stdin : createReadStream(file, { highWaterMark: 64 * 1024 });
					reading = input;
					report = await runImport(app.services.deps, ctx, input, options, (progress) => {
						view.update(progress);
						bound();
					});
				} catch (error) {
					view.stop();
					if (!(error instanceof ServiceError)) throw error;
					// Before any job (the format could not be detected, …): the file is at fault, not the run.
					const message = error.code === "import_file_invalid" ? "the format could not be detected from the first bytes; name it with --format" : error.message;
					out.stderr(`twofold import: ${file}: ${message}`);
					if (values.json === true) out.stdout(JSON.stringify({ file, error: { code: error.code, reason: message } }));
					failed = true;
					continue;
				}
				view.stop();
				out.stdout(values.json === true ? JSON.stringify({ file, ...report }) : describe(file, report));
				if (report.status === "failed") failed = true;
				if (report.counts.invalid > 0) invalid = true;
			}
		} finally {
			process.off("SIGINT", onSignal);
			process.off("SIGTERM", onSignal);
			preSharedKey?.fill(0);
			await app.close();
		}
		if (interrupt.signal.aborted) {
			out.stderr("twofold import: interrupted; the running job ended failed (interrupted), the batches committed before it stay");
			return EXIT_FAILED;
		}
		return failed ? EXIT_FAILED : invalid ? EXIT_INVALID : EXIT_OK;
	},
};

/** The passphrase: the descriptor's whole content, one trailing newline removed (what `echo` or a here-string adds). */
function readPassphraseFd(fd: number): string {
	let text: string;
	try {
		text = readFileSync(fd, "utf8");
	} catch {
		throw new UsageError(`--passphrase-fd ${fd}: the descriptor is not open for reading`);
	}
	return text.replace(/\r?\n$/, "");
}

/** A pre-shared AES-128 key (RFC 6030 §6.1): 16 raw bytes, or 32 hex digits (surrounding white space ignored). */
function readKeyFile(path: string): Uint8Array {
	let bytes: Buffer;
	try {
		bytes = readFileSync(path);
	} catch {
		throw new UsageError(`--psk-file ${path}: cannot read it`);
	}
	const text = bytes.toString("latin1").trim();
	if (/^[0-9a-fA-F]{32}$/.test(text)) return new Uint8Array(Buffer.from(text, "hex"));
	if (bytes.length === 16) return new Uint8Array(bytes);
	throw new UsageError("--psk-file must hold the 128-bit key: 16 bytes, or 32 hex digits");
}

async function needsPassphrase(file: string, format: ImportFormat | "auto"): Promise<boolean> {
	if (format !== "auto" && format !== "pskc") return false;
	const handle = await open(file, "r");
	try {
		const head = Buffer.alloc(PSKC_HEADER_BYTES);
		const { bytesRead } = await handle.read(head, 0, head.length, 0);
		const text = head.subarray(0, bytesRead).toString("utf8");
		return /<(?:\w+:)?KeyContainer/i.test(text) && /<(?:\w+:)?DerivedKey/i.test(text);
	} finally {
		await handle.close();
	}
}

const SHOWN_ENTRIES = 50;

function describe(file: string, report: ImportReport): string {
	const c = report.counts;
	const lines = [
		`${file}: ${report.status === "dry_run" ? "dry run (nothing written)" : `job ${report.job_id} ${report.status}`}, format ${report.format}`,
		`  records ${c.records}; users created ${c.users_created}, replaced ${c.users_replaced}; factors created ${c.factors_created}; skipped ${c.skipped}; invalid ${c.invalid}; weak secrets ${c.weak_secret}`,
	];
	if (report.error !== undefined) lines.push(`  stopped at ${report.error.location}: ${report.error.reason} (${report.error.code}); the users before it were written`);
	for (const entry of report.entries.slice(0, SHOWN_ENTRIES)) {
		lines.push(`  ${entry.outcome} ${entry.location}${entry.userId === undefined ? "" : ` user ${JSON.stringify(entry.userId)}`}: ${entry.code}: ${entry.reason}`);
	}
	const more = report.entries.length - SHOWN_ENTRIES + (report.entries_truncated ? 1 : 0);
	if (more > 0) lines.push(`  … ${report.entries_truncated ? "more" : more} entries not shown (--json lists up to 1,000)`);
	return lines.join("\n");
}
