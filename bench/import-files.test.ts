// The import bench's generator (bench/import-files.mjs) checked against implementations it did not write: each CSV
// line's seed gives, through oathtool, the code our TOTP computes from the bench's own secret for that user; and
// Debian's python3-pskc decrypts the generated PSKC file (PBKDF2, MAC checked) to the same secrets, users and serials.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateTOTP } from "../packages/server/src/core/totp.js";
import { IN_CI } from "../packages/server/test/helpers.js";
// @ts-expect-error: a plain .mjs bench module without type declarations
import { importSecret, importSerial, importUserId, writeImportFiles, writeOathCSV, writePSKC } from "./import-files.mjs";

type Secret = (seed: Buffer, index: number) => Buffer;
const secretOf = importSecret as Secret;

const OATHTOOL = existsSync("/usr/bin/oathtool");
/** Debian's python with python3-pskc (a pyenv python on PATH does not have it). */
const PYTHON = "/usr/bin/python3";
const PSKC = existsSync(PYTHON) && (() => {
	try {
		execFileSync(PYTHON, ["-c", "import pskc"], { stdio: "ignore" });
		return true;
	} catch {
		return false;
	}
})();
for (const [present, tool, install] of [
	[OATHTOOL, "oathtool", "apt-get install oathtool"],
	[PSKC, "python3-pskc", "apt-get install python3-pskc"],
] as const) {
	if (!present && IN_CI) throw new Error(`${tool} is required under CI=true (${install})`);
	if (!present) console.warn(`[skip] ${tool} not installed: ${install} to check the import bench's files with it`);
}

const dir = mkdtempSync(join(tmpdir(), "twofold-import-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const seed = Buffer.from("a bench seed of thirty-two bytes", "utf8");

describe("the import bench's OATH CSV", () => {
	it.runIf(OATHTOOL)("has a version 2 header and one TOTP line per user whose seed gives oathtool's code for that user's secret", async () => {
		const path = join(dir, "checked.oath.csv");
		await writeOathCSV(path, { users: 5, seed, start: 1000 });
		const lines = readFileSync(path, "utf8").trimEnd().split("\n");
		expect(lines[0]).toBe("# version: 2");
		expect(lines).toHaveLength(6);
		const now = Date.UTC(2026, 11, 3, 12, 0, 0);
		for (const [k, line] of lines.slice(1).entries()) {
			const index = 1000 + k;
			const [user, resolver, realm, serial, hex, type, digits, step] = line.split(",").map((c) => c.trim());
			expect([user, resolver, realm, serial, type, digits, step]).toEqual([importUserId(index), "bench-resolver", "bench-realm", importSerial(index), "totp", "6", "30"]);
			// 160 bits (R-OTP-4), so the import takes it as a full-strength secret, not a weak one.
			expect(hex).toMatch(/^[0-9a-f]{40}$/);
			const fromOathtool = execFileSync("oathtool", ["--totp", "-d", "6", "-s", "30", `--now=${new Date(now).toISOString().replace(".000Z", "Z")}`, hex], { encoding: "utf8" }).trim();
			const ours = generateTOTP({ key: secretOf(seed, index), nowInMilliseconds: now, periodInSeconds: 30, digits: 6, algorithm: "SHA1" });
			expect(fromOathtool).toBe(ours);
		}
	});

	it("never overwrites an existing file", async () => {
		const path = join(dir, "once.oath.csv");
		await writeOathCSV(path, { users: 1, seed });
		await expect(writeOathCSV(path, { users: 1, seed })).rejects.toThrow(/EEXIST/);
	});
});

describe("the import bench's PSKC file", () => {
	const readWithPythonPSKC = (path: string, passphrase: string) =>
		JSON.parse(
			execFileSync(
				PYTHON,
				[
					"-c",
					// python3-pskc checks each ValueMAC before it decrypts (pskc/encryption.py), so a wrong MAC fails here.
					"import json, sys, pskc\n" +
						"p = pskc.PSKC(sys.argv[1])\n" +
						"p.encryption.derive_key(sys.argv[2])\n" +
						"print(json.dumps({'prf': p.encryption.derivation.pbkdf2_prf, 'mac': p.mac.algorithm, 'keys': [" +
						"{'id': k.id, 'serial': k.serial, 'user': k.key_userid, 'algorithm': k.algorithm, 'secret': k.secret.hex(), 'digits': k.response_length, " +
						"'interval': k.time_interval, 'time': k.time_offset} for k in p.keys]}))",
					path,
					passphrase,
				],
				{ encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
			),
		) as { prf: string; mac: string; keys: Array<Record<string, unknown>> };

	for (const [prf, mac] of [
		["sha256", "sha256"],
		["sha1", "sha1"],
	] as const) {
		it.runIf(PSKC)(`is decrypted by python3-pskc with the passphrase (PBKDF2-HMAC-${prf.toUpperCase()}, MAC HMAC-${mac.toUpperCase()}) to each user's secret`, async () => {
			const path = join(dir, `checked-${prf}.pskc.xml`);
			await writePSKC(path, { users: 4, seed, passphrase: "correct horse", iterations: 1000, prf, mac, start: 7 });
			const read = readWithPythonPSKC(path, "correct horse");
			expect(read.prf).toMatch(new RegExp(`hmac-${prf}$`));
			expect(read.mac).toMatch(new RegExp(`hmac-${mac}$`));
			expect(read.keys).toEqual(
				[7, 8, 9, 10].map((index) => ({
					id: importSerial(index),
					serial: importSerial(index),
					user: importUserId(index),
					algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:totp",
					secret: secretOf(seed, index).toString("hex"),
					digits: 6,
					interval: 30,
					time: 0,
				})),
			);
		});
	}

	it.runIf(PSKC)("is refused by python3-pskc with another passphrase", async () => {
		const path = join(dir, "wrong-passphrase.pskc.xml");
		await writePSKC(path, { users: 1, seed, passphrase: "correct horse", iterations: 1000 });
		expect(() => readWithPythonPSKC(path, "battery staple")).toThrow(/DecryptionError|MAC/);
	});

	it.runIf(PSKC)("at bench scale: both files of 2,000 users, the PSKC one read whole by python3-pskc with the default 600,000 iterations", async () => {
		const sub = mkdtempSync(join(dir, "scale-"));
		const files = (await writeImportFiles(sub, { users: 2000 })) as { seed: Buffer; passphrase: string; csv: string; pskc: string; csvBytes: number; pskcBytes: number };
		expect(statSync(files.csv).size).toBe(files.csvBytes);
		expect(statSync(files.pskc).size).toBe(files.pskcBytes);
		// 0600: the files hold secrets.
		expect(statSync(files.pskc).mode & 0o777).toBe(0o600);
		const read = readWithPythonPSKC(files.pskc, files.passphrase);
		expect(read.keys).toHaveLength(2000);
		const last = read.keys[1999];
		expect(last?.user).toBe(importUserId(1999));
		expect(last?.secret).toBe(secretOf(files.seed, 1999).toString("hex"));
		const csvLines = readFileSync(files.csv, "utf8").trimEnd().split("\n");
		expect(csvLines).toHaveLength(2001);
		expect(csvLines[2000]?.split(", ")[4]).toBe(secretOf(files.seed, 1999).toString("hex"));
	});
});
