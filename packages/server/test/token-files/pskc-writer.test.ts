import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeBase32, encodeBase32 } from "../../src/core/base32.js";
import { generateTOTP } from "../../src/core/totp.js";
import type { ExportToken } from "../../src/token-files/export-token.js";
import type { ImportRecord } from "../../src/token-files/import-record.js";
import { otpauthHeader, otpauthLine } from "../../src/token-files/otpauth-writer.js";
import { PSKC_EXPORT_PBKDF2_ITERATIONS, PSKCWriter } from "../../src/token-files/pskc-writer.js";
import { readTokenFile } from "../../src/token-files/read-token-file.js";
import { chunks, collect, failureOf, HAS_OATHTOOL, HAS_PYTHON_PSKC, oathtoolCode, PYTHON } from "./pskc-helpers.js";

/**
 * Twofold's export writers (issue 17). The PSKC file is checked by an implementation we did not write (Debian's
 * python3-pskc), which must decrypt it with the passphrase, verify each MAC and find the same secrets and parameters;
 * the otpauth lines by oathtool. Both are read back by Twofold's own readers too.
 */

const dir = mkdtempSync(join(tmpdir(), "twofold-pskc-writer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PASSPHRASE = "correct horse battery staple ünïcode";

function tokens(): ExportToken[] {
	return [
		{ userId: "u-1", factorId: "fac_totp1", type: "totp", secret: Buffer.from("12345678901234567890"), algorithm: "SHA1", digits: 6, period: 30, label: "u-1" },
		{ userId: `odd:user,"id"&<x>'`, factorId: "fac_totp2", type: "totp", secret: randomBytes(32), algorithm: "SHA256", digits: 8, period: 60, label: "Ünïcode phone" },
		{ userId: "u-3", factorId: "fac_hotp1", type: "hotp", secret: randomBytes(20), algorithm: "SHA1", digits: 6, counter: 7, label: "key fob" },
		{ userId: "u-3", factorId: "fac_hotp2", type: "hotp", secret: randomBytes(20), algorithm: "SHA512", digits: 8, label: "no counter known" },
	];
}

async function pskcFile(list: ExportToken[], passphrase = PASSPHRASE): Promise<string> {
	const writer = await PSKCWriter.create(passphrase, (n) => randomBytes(n));
	try {
		return writer.header() + list.map((token) => writer.keyPackage(token, "Acme & Co")).join("") + writer.footer();
	} finally {
		writer.close();
	}
}

/** python3-pskc opens the file with the passphrase from stdin and prints every key as JSON (secrets in hex). */
const READ_WITH_PYTHON = `
import json, sys, pskc
f = pskc.PSKC(sys.argv[1])
f.encryption.derive_key(sys.stdin.read())
d = f.encryption.derivation
out = {"iterations": d.pbkdf2_iterations, "prf": d.pbkdf2_prf, "key_length": d.pbkdf2_key_length, "algorithm": f.encryption.algorithm, "mac": f.mac.algorithm, "keys": []}
for k in f.keys:
    out["keys"].append({"id": k.id, "user": k.key_userid, "issuer": k.issuer, "algorithm": k.algorithm, "suite": k.algorithm_suite,
        "digits": k.response_length, "counter": k.counter, "interval": k.time_interval, "name": k.friendly_name, "secret": k.secret.hex()})
print(json.dumps(out))
`;

function readWithPython(path: string, passphrase: string): { status: number | null; stdout: string; stderr: string } {
	const run = spawnSync(PYTHON, ["-c", READ_WITH_PYTHON, path], { input: passphrase, encoding: "utf8" });
	return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function write(name: string, text: string): string {
	const path = join(dir, name);
	writeFileSync(path, text);
	return path;
}

async function readOurs(text: string, options: { passphrase?: string; format?: "pskc" | "otpauth"; userFrom?: "label" } = {}) {
	const { format = "pskc", ...read } = options;
	return collect(readTokenFile(chunks(text, 301), format, read));
}

describe.skipIf(!HAS_PYTHON_PSKC)("the PSKC export, read by python3-pskc", () => {
	it("decrypts with the passphrase, checks the MACs and finds the same secrets, users and parameters", async () => {
		const list = tokens();
		const path = write("export.pskc.xml", await pskcFile(list));
		const run = readWithPython(path, PASSPHRASE);
		expect(run.stderr).toBe("");
		expect(run.status).toBe(0);
		const read = JSON.parse(run.stdout);
		expect(read.iterations).toBe(PSKC_EXPORT_PBKDF2_ITERATIONS);
		expect(read.iterations).toBeGreaterThanOrEqual(600_000);
		expect(read.prf).toBe("http://www.w3.org/2001/04/xmldsig-more#hmac-sha256");
		expect(read.key_length).toBe(16);
		expect(read.algorithm).toBe("http://www.w3.org/2001/04/xmlenc#aes128-cbc");
		expect(read.mac).toBe("http://www.w3.org/2001/04/xmldsig-more#hmac-sha256");
		expect(read.keys).toEqual(
			list.map((token) => ({
				id: token.factorId,
				user: token.userId,
				issuer: "Acme & Co",
				algorithm: `urn:ietf:params:xml:ns:keyprov:pskc:${token.type}`,
				suite: `HMAC-${token.algorithm}`,
				digits: token.digits,
				counter: token.counter ?? null,
				interval: token.period ?? null,
				name: token.label,
				secret: Buffer.from(token.secret).toString("hex"),
			})),
		);
	});

	it("a wrong passphrase gets nothing from python3-pskc nor from Twofold's reader", async () => {
		const text = await pskcFile(tokens());
		const run = readWithPython(write("wrong.pskc.xml", text), "not the passphrase at all");
		expect(run.status).not.toBe(0);
		expect(run.stderr).toMatch(/DecryptionError|MAC/);
		const { error, seen } = await failureOf(readTokenFile(chunks(text), "pskc", { passphrase: "not the passphrase at all" }));
		expect(seen).toBe(0);
		expect(error.code).toBe("wrong_key_or_mac");
		expect(error.message).not.toContain("12345678901234567890");
	});

	it("attack: a changed ciphertext fails the MAC in python3-pskc and in Twofold's reader (integrity, RFC 6030 §6.1.1)", async () => {
		const text = await pskcFile(tokens().slice(0, 1));
		// The secret's CipherValue is the second one (the first is the MAC key): flip one base64 character in its IV, which
		// changes the first plaintext block and leaves the padding whole, so only the MAC can tell (python-pskc decrypts
		// before it checks; a change elsewhere would show as bad padding instead).
		const values = [...text.matchAll(/<xenc:CipherValue>([^<]+)</g)];
		const target = values[1]!;
		const value = target[1]!;
		const flipped = value.slice(0, 5) + (value[5] === "A" ? "B" : "A") + value.slice(6);
		const tampered = text.slice(0, target.index!) + target[0].replace(value, flipped) + text.slice(target.index! + target[0].length);
		expect(tampered).not.toBe(text);
		const run = readWithPython(write("tampered.pskc.xml", tampered), PASSPHRASE);
		expect(run.status).not.toBe(0);
		expect(run.stderr).toMatch(/MAC value does not match/);
		await expect(readOurs(tampered, { passphrase: PASSPHRASE })).rejects.toMatchObject({ code: "wrong_key_or_mac" });
	});
});

describe("the PSKC export, read by Twofold's reader", () => {
	it("gives back every token: user, type, secret, next counter, period, digits, algorithm, the factor id as serial", async () => {
		const list = tokens();
		const items = await readOurs(await pskcFile(list), { passphrase: PASSPHRASE });
		const records = items.map((item) => {
			expect(item.kind).toBe("record");
			return (item as { record: ImportRecord }).record;
		});
		expect(records.map((record) => ({ ...record, secret: Buffer.from(record.secret).toString("hex"), location: undefined }))).toEqual(
			list.map((token) => ({
				userId: token.userId,
				type: token.type,
				secret: Buffer.from(token.secret).toString("hex"),
				algorithm: token.algorithm,
				digits: token.digits,
				...(token.period === undefined ? {} : { period: token.period }),
				...(token.counter === undefined ? {} : { counter: token.counter }),
				serial: token.factorId,
				label: token.label,
				location: undefined,
			})),
		);
	});

	it("a passphrase not in NFC (a decomposed é) opens the file as typed, in Twofold's reader and in python3-pskc", async () => {
		const decomposed = "cafe\u0301 cre\u0300me bru\u0302le\u0301e";
		expect(decomposed.normalize("NFC")).not.toBe(decomposed);
		const list = tokens().slice(0, 2);
		const text = await pskcFile(list, decomposed);
		const items = await readOurs(text, { passphrase: decomposed });
		expect(items.map((item) => (item.kind === "record" ? Buffer.from(item.record.secret).toString("hex") : item.kind))).toEqual(
			list.map((token) => Buffer.from(token.secret).toString("hex")),
		);
		if (HAS_PYTHON_PSKC) {
			const run = readWithPython(write("decomposed.pskc.xml", text), decomposed);
			expect(run.stderr).toBe("");
			expect(JSON.parse(run.stdout).keys.map((key: { secret: string }) => key.secret)).toEqual(list.map((token) => Buffer.from(token.secret).toString("hex")));
		}
	});

	it("holds no secret in a decodable form, and a fresh salt and IVs each time", async () => {
		const list = tokens();
		const first = await pskcFile(list);
		const second = await pskcFile(list);
		expect(second).not.toBe(first);
		const salts = [first, second].map((text) => /<Specified>([^<]+)</.exec(text)![1]);
		expect(salts[0]).not.toBe(salts[1]);
		for (const token of list) {
			const secret = Buffer.from(token.secret);
			for (const form of [secret.toString("hex"), secret.toString("base64"), encodeBase32(secret), secret.toString("latin1")]) expect(first).not.toContain(form);
		}
		expect(first).not.toContain(PASSPHRASE);
	});

	it("refuses fewer than 600,000 PBKDF2 iterations and an empty passphrase", async () => {
		await expect(PSKCWriter.create(PASSPHRASE, (n) => randomBytes(n), 100_000)).rejects.toThrow(/600000/);
		await expect(PSKCWriter.create("", (n) => randomBytes(n))).rejects.toThrow(/passphrase/);
	});
});

describe("the otpauth export", () => {
	it("one Key Uri Format line per factor; oathtool makes the codes Twofold makes; the user id comes back from the label", async () => {
		const list = tokens();
		const text = otpauthHeader("Acme & Co", new Date(0)) + list.map((token) => otpauthLine(token, "Acme & Co")).join("");
		const lines = text.trimEnd().split("\n");
		expect(lines[0]).toMatch(/^# Twofold export of Acme & Co/);
		expect(lines.slice(1).map((line) => line.slice(0, 15))).toEqual(["otpauth://totp/", "otpauth://totp/", "otpauth://hotp/", "otpauth://hotp/"]);
		const first = new URL(lines[1]!);
		expect(decodeBase32(first.searchParams.get("secret")!)).toEqual(new Uint8Array(list[0]!.secret));
		expect(new URL(lines[3]!).searchParams.get("counter")).toBe("7");
		// No counter known: none written (a reader then imports it needing resynchronization), not a made-up 0.
		expect(new URL(lines[4]!).searchParams.has("counter")).toBe(false);
		if (HAS_OATHTOOL) {
			for (const at of [59, 1_111_111_109]) {
				const base32 = new URL(lines[2]!).searchParams.get("secret")!;
				const reference = execFileSync("oathtool", ["--totp=SHA256", "-d", "8", "-s", "60s", "--now", `@${at}`, "-b", base32], { encoding: "utf8" }).trim();
				expect(generateTOTP({ key: list[1]!.secret, nowInMilliseconds: at * 1000, periodInSeconds: 60, digits: 8, algorithm: "SHA256" })).toBe(reference);
			}
			expect(oathtoolCode({ type: "hotp", secret: decodeBase32(new URL(lines[3]!).searchParams.get("secret")!)!, digits: 6, counter: 7 })).toBe(
				oathtoolCode({ type: "hotp", secret: list[2]!.secret, digits: 6, counter: 7 }),
			);
		}
		const items = await readOurs(text, { format: "otpauth", userFrom: "label" });
		const records = items.filter((item) => item.kind === "record").map((item) => (item as { record: ImportRecord }).record);
		expect(records.map((record) => [record.userId, record.type, Buffer.from(record.secret).toString("hex"), record.counter, record.period, record.digits, record.algorithm])).toEqual(
			list.map((token) => [token.userId, token.type, Buffer.from(token.secret).toString("hex"), token.counter, token.period, token.digits, token.algorithm]),
		);
	});

	it("a tenant name with a colon and user ids with colons or spaces at either end come back as they were with --user-from label", async () => {
		const userIds = [" bob", "alice", "a:b", "x: y", "trailing ", "  two:lead", "Acme: EU:carol", "%3A literal"];
		const secret = Buffer.from("12345678901234567890");
		const list: ExportToken[] = userIds.map((userId, index) => ({ userId, factorId: `fac_${index}`, type: "totp", secret, algorithm: "SHA1", digits: 6, period: 30, label: "phone" }));
		for (const issuer of ["Acme: EU", "Acme", "a:b: c", ""]) {
			const text = otpauthHeader(issuer, new Date(0)) + list.map((token) => otpauthLine(token, issuer)).join("");
			const items = await readOurs(text, { format: "otpauth", userFrom: "label" });
			expect(items.filter((item) => item.kind === "problem")).toEqual([]);
			const records = items.filter((item) => item.kind === "record").map((item) => (item as { record: ImportRecord }).record);
			expect(records.map((record) => record.userId)).toEqual(userIds);
			// Each line still names the tenant as issuer, so an authenticator app shows it.
			for (const line of text.trimEnd().split("\n").slice(1)) expect(new URL(line).searchParams.get("issuer")).toBe(issuer);
		}
	});
});
