// `twofold export` (issue 17) as an operator runs it: the built CLI as its own process. The passphrase comes on a
// file descriptor, never an argument; the file is created 0600 (even under umask 000) and never overwritten; plaintext
// needs --i-understand-plaintext; each user is audited; and the file, imported with `twofold import` into a fresh
// data folder, gives codes made by oathtool from the original secrets that verify there, once.
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { decodeBase32, encodeBase32 } from "../../src/core/base32.js";
import { generateHOTP } from "../../src/core/hotp.js";
import { readTokenFile } from "../../src/token-files/read-token-file.js";
import { codeFor, testClock } from "../helpers.js";
import { hasTool } from "./process.js";

const OATHTOOL = hasTool("oathtool", "oathtool");
// util-linux's script(1) gives the CLI a terminal, as an operator's shell would.
const SCRIPT = hasTool("script", "bsdutils");
const binary = new URL("../../bin/twofold.js", import.meta.url).pathname;
const PASSPHRASE = "a long export passphrase";

/** Runs the CLI on a pseudo-terminal (script(1)); each time the output shows a prompt of `answers`, types its answer. */
function onTerminal(args: string[], env: Record<string, string>, answers: [RegExp, string][]): Promise<{ code: number | null; output: string }> {
	const command = [process.execPath, binary, ...args].map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(" ");
	return new Promise((resolve, reject) => {
		const child = spawn("script", ["-qec", command, "/dev/null"], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
		let output = "";
		const pending = [...answers];
		const onData = (chunk: Buffer) => {
			output += chunk.toString("utf8");
			while (pending.length > 0 && pending[0]![0].test(output)) {
				const [prompt, answer] = pending.shift()!;
				output = output.replace(prompt, (match) => `${match}[answered]`);
				// The instant the prompt shows: cli/hidden-input.ts turns echo off before it writes the prompt, so even an
				// answer typed at once is not echoed (it was, when the prompt came first).
				child.stdin!.write(`${answer}\r`);
			}
		};
		child.stdout!.on("data", onData);
		child.stderr!.on("data", onData);
		child.on("error", reject);
		child.on("close", (code) => resolve({ code, output }));
	});
}

/** Runs the CLI under umask 000 with `fd3` (if given) written to its file descriptor 3; stdin is not a terminal. */
function run(args: string[], env: Record<string, string>, fd3?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn("sh", ["-c", 'umask 000 && exec "$@"', "sh", process.execPath, binary, ...args], {
			env: { ...process.env, ...env },
			stdio: ["pipe", "pipe", "pipe", "pipe"],
		});
		let stdout = "";
		let stderr = "";
		child.stdout!.on("data", (chunk) => (stdout += chunk));
		child.stderr!.on("data", (chunk) => (stderr += chunk));
		child.on("error", reject);
		child.on("close", (code) => resolve({ code, stdout, stderr }));
		const pipe = child.stdio[3] as NodeJS.WritableStream;
		pipe.on("error", () => undefined);
		pipe.end(fd3 ?? "");
		child.stdin!.end();
	});
}

describe.skipIf(!OATHTOOL)("operator CLI: export", () => {
	const source = mkdtempSync(join(tmpdir(), "twofold-export-src-"));
	const target = mkdtempSync(join(tmpdir(), "twofold-export-dst-"));
	const out = mkdtempSync(join(tmpdir(), "twofold-export-out-"));
	const sourceEnv = { TWOFOLD_DATA_DIR: source };
	const targetEnv = { TWOFOLD_DATA_DIR: target };
	let tenantId: string;
	const totp = { user: "alice@example", secret: new Uint8Array() };
	const hotp = { user: "bob", secret: randomBytes(20) };

	beforeAll(async () => {
		expect((await run(["migrate"], sourceEnv)).code).toBe(0);
		const created = await run(["tenants", "create", "--name", "Acme", "--json"], sourceEnv);
		const tenant = JSON.parse(created.stdout);
		tenantId = tenant.tenant_id;
		// Enrolled through the API, in process, on the same data folder.
		const node = await createApp(loadConfig(sourceEnv, process.cwd()), { logger: false });
		try {
			const http = await node.http();
			const call = async (url: string, body: unknown) => {
				const response = await http.inject({ method: "POST", url, headers: { authorization: `Bearer ${tenant.api_key}`, "content-type": "application/json" }, payload: JSON.stringify(body) });
				expect(response.statusCode, response.body).toBeLessThan(300);
				return response.json();
			};
			const enrolled = await call(`/v1/users/${encodeURIComponent(totp.user)}/factors`, { type: "totp" });
			totp.secret = decodeBase32(enrolled.totp.secret)!;
			await call(`/v1/users/${encodeURIComponent(totp.user)}/factors/${enrolled.factor.id}/confirm`, { code: codeFor(enrolled.totp.secret, new Date()) });
			const hotpFactor = await call("/v1/users/bob/factors", { type: "hotp", secret: encodeBase32(hotp.secret), counter: 3 });
			await call(`/v1/users/bob/factors/${hotpFactor.factor.id}/confirm`, { code: generateHOTP(hotp.secret, 3n, 6, "SHA1") });
		} finally {
			await node.close();
		}
		expect((await run(["migrate"], targetEnv)).code).toBe(0);
	}, 120_000);
	afterAll(() => {
		for (const dir of [source, target, out]) rmSync(dir, { recursive: true, force: true });
	});

	it("refuses a passphrase given as an argument, plaintext without --i-understand-plaintext, and no passphrase off a terminal (exit 2, no file)", async () => {
		const path = join(out, "refused.xml");
		for (const args of [
			["--format", "pskc", "--passphrase", PASSPHRASE],
			["--format", "pskc", `--passphrase=${PASSPHRASE}`],
			["--format", "otpauth"],
			["--format", "pskc"],
		]) {
			const result = await run(["export", "--tenant", tenantId, "--out", path, ...args], sourceEnv);
			expect(result.code, result.stderr).toBe(2);
			expect(existsSync(path)).toBe(false);
			expect(result.stderr + result.stdout).not.toContain(PASSPHRASE);
		}
		const argument = await run(["export", "--tenant", tenantId, "--out", path, "--format", "pskc", "--passphrase", PASSPHRASE], sourceEnv);
		expect(argument.stderr).toContain("never an argument");
		const plaintext = await run(["export", "--tenant", tenantId, "--out", path, "--format", "otpauth"], sourceEnv);
		expect(plaintext.stderr).toContain("--i-understand-plaintext");
		expect(plaintext.stderr).toContain("in the clear");
		const short = await run(["export", "--tenant", tenantId, "--out", path, "--format", "pskc", "--passphrase-fd", "3"], sourceEnv, "short");
		expect(short.code).toBe(2);
		expect(short.stderr).toContain("at least 12 characters");
		expect(existsSync(path)).toBe(false);
	}, 120_000);

	it("writes an encrypted PSKC file, mode 0600 under umask 000, audits each user as the CLI, and never overwrites it", async () => {
		const path = join(out, "export.pskc.xml");
		const result = await run(["export", "--tenant", tenantId, "--format", "pskc", "--out", path, "--passphrase-fd", "3", "--json"], sourceEnv, `${PASSPHRASE}\n`);
		expect(result.code, result.stderr).toBe(0);
		expect(JSON.parse(result.stdout)).toEqual({ file: path, format: "pskc", users: 2, factors: 2, webauthn_not_exported: 0, users_without_exportable_factor: 0, listed_users_not_found: 0 });
		expect(statSync(path).mode & 0o777).toBe(0o600);
		const text = readFileSync(path, "utf8");
		expect(text).toContain("<IterationCount>600000</IterationCount>");
		for (const secret of [totp.secret, hotp.secret]) expect(text).not.toContain(encodeBase32(secret));
		expect(text).not.toContain(PASSPHRASE);

		const hash = createHash("sha256").update(readFileSync(path)).digest("hex");
		const again = await run(["export", "--tenant", tenantId, "--format", "pskc", "--out", path, "--passphrase-fd", "3"], sourceEnv, PASSPHRASE);
		expect(again.code).toBe(1);
		expect(again.stderr).toContain("never overwritten");
		expect(createHash("sha256").update(readFileSync(path)).digest("hex")).toBe(hash);

		const node = await createApp(loadConfig(sourceEnv, process.cwd()), { logger: false });
		try {
			const events = await node.store.events.list(tenantId, { type: "factor.exported", limit: 10 });
			expect(events.map((event) => event.user_id).sort()).toEqual(["alice@example", "bob"]);
			for (const event of events) expect(JSON.parse(event.data)).toMatchObject({ format: "pskc", actor_key_id: "cli" });
		} finally {
			await node.close();
		}
	}, 120_000);

	it("round trip: `twofold import` of the file into a fresh data folder; oathtool codes of the original secrets verify there, once", async () => {
		const path = join(out, "roundtrip.pskc.xml");
		expect((await run(["export", "--tenant", tenantId, "--format", "pskc", "--out", path, "--passphrase-fd", "3"], sourceEnv, PASSPHRASE)).code).toBe(0);
		const fresh = JSON.parse((await run(["tenants", "create", "--name", "Elsewhere", "--json"], targetEnv)).stdout);
		const imported = await run(["import", "--tenant", fresh.tenant_id, "--passphrase-fd", "3", "--json", path], targetEnv, PASSPHRASE);
		expect(imported.code, imported.stderr).toBe(0);
		expect(JSON.parse(imported.stdout)).toMatchObject({ status: "completed", counts: { users_created: 2, factors_created: 2, invalid: 0 } });

		// The import fenced TOTP at its current step: a clock one step on makes the next code due.
		const clock = testClock(Date.now() + 30_000);
		const node = await createApp(loadConfig(targetEnv, process.cwd()), { logger: false, clock });
		try {
			const http = await node.http();
			const verify = async (user: string, code: string) =>
				(
					await http.inject({
						method: "POST",
						url: `/v1/users/${encodeURIComponent(user)}/verify`,
						headers: { authorization: `Bearer ${fresh.api_key}`, "content-type": "application/json" },
						payload: JSON.stringify({ code }),
					})
				).statusCode;
			const unix = Math.floor(clock().getTime() / 1000);
			const totpCode = execFileSync("oathtool", ["--totp", "-b", "-N", `@${unix}`, encodeBase32(totp.secret)], { encoding: "utf8" }).trim();
			expect(await verify(totp.user, totpCode)).toBe(200);
			expect(await verify(totp.user, totpCode)).toBe(422);
			// HOTP confirmed at 3: the export's next counter is 4.
			expect(await verify("bob", execFileSync("oathtool", ["-b", "-c", "3", encodeBase32(hotp.secret)], { encoding: "utf8" }).trim())).toBe(422);
			const hotpCode = execFileSync("oathtool", ["-b", "-c", "4", encodeBase32(hotp.secret)], { encoding: "utf8" }).trim();
			expect(await verify("bob", hotpCode)).toBe(200);
			expect(await verify("bob", hotpCode)).toBe(422);
		} finally {
			await node.close();
		}
	}, 180_000);

	it.skipIf(!SCRIPT)("on a terminal the passphrase is asked twice without echo; two different answers write nothing", async () => {
		const typed = "typed on the terminal 42";
		const path = join(out, "terminal.pskc.xml");
		const asked = await onTerminal(["export", "--tenant", tenantId, "--format", "pskc", "--out", path], sourceEnv, [
			[/Passphrase for the PSKC export: /, typed],
			[/The same passphrase again: /, typed],
		]);
		expect(asked.code, asked.output).toBe(0);
		expect(asked.output).toContain("exported 2 users");
		expect(asked.output).not.toContain(typed);
		// The file opens with what was typed.
		async function* bytes() {
			yield readFileSync(path);
		}
		const records = [];
		for await (const item of readTokenFile(bytes(), "pskc", { passphrase: typed })) records.push(item);
		expect(records.map((item) => item.kind)).toEqual(["record", "record"]);

		const differing = join(out, "differing.pskc.xml");
		const refused = await onTerminal(["export", "--tenant", tenantId, "--format", "pskc", "--out", differing], sourceEnv, [
			[/Passphrase for the PSKC export: /, typed],
			[/The same passphrase again: /, `${typed}!`],
		]);
		expect(refused.code).toBe(2);
		expect(refused.output).toContain("the two passphrases differ");
		expect(existsSync(differing)).toBe(false);
	}, 120_000);

	it("otpauth with --i-understand-plaintext: 0600, one URI per factor, importable with --user-from label", async () => {
		const path = join(out, "export.txt");
		const result = await run(["export", "--tenant", tenantId, "--format", "otpauth", "--i-understand-plaintext", "--out", path], sourceEnv);
		expect(result.code, result.stderr).toBe(0);
		expect(result.stdout).toContain("exported 2 users, 2 factors");
		expect(statSync(path).mode & 0o777).toBe(0o600);
		const lines = readFileSync(path, "utf8").trimEnd().split("\n");
		expect(lines[0]).toMatch(/^# Twofold export of Acme/);
		expect(lines.slice(1).sort()).toEqual([expect.stringMatching(/^otpauth:\/\/hotp\/Acme:bob\?secret=/), expect.stringMatching(/^otpauth:\/\/totp\/Acme:alice%40example\?secret=/)]);
		const other = JSON.parse((await run(["tenants", "create", "--name", "Other", "--json"], targetEnv)).stdout);
		const dry = await run(["import", "--tenant", other.tenant_id, "--user-from", "label", "--dry-run", "--json", path], targetEnv);
		expect(dry.code, dry.stderr).toBe(0);
		expect(JSON.parse(dry.stdout)).toMatchObject({ status: "dry_run", counts: { users_created: 2, factors_created: 2, invalid: 0 } });
	}, 120_000);
});
