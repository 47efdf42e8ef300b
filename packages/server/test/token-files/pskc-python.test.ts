import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateHOTP } from "../../src/core/hotp.js";
import { generateTOTP } from "../../src/core/totp.js";
import type { ImportRecord } from "../../src/token-files/import-record.js";
import { readPSKC } from "../../src/token-files/pskc-reader.js";
import { chunks, collect, failureOf, HAS_OATHTOOL, HAS_PYTHON_PSKC, oathtoolCode, PYTHON } from "./pskc-helpers.js";

/**
 * Files written by an implementation we did not write (Debian's python3-pskc), read by ours: plain, pre-shared key
 * (HMAC-SHA1 and HMAC-SHA256 MACs, AES-128 and AES-256) and PBKDF2 (HMAC-SHA1 and HMAC-SHA256 PRF), with the
 * counter and time step encrypted too. Random secrets each run; the codes are checked with oathtool.
 */

interface Token {
	id: string;
	user: string;
	/** "key": Key/UserId; "device": DeviceInfo/UserId. */
	userIn: "key" | "device";
	type: "hotp" | "totp";
	secret: string;
	digits: number;
	suite?: string;
	counter?: number;
	period?: number;
}

interface Spec {
	mode: "plain" | "psk" | "pbkdf2";
	tokens: Token[];
	key?: string;
	mac?: string;
	algorithm?: string;
	passphrase?: string;
	prf?: string;
	iterations?: number;
	fields?: string[];
}

const WRITER = `
import json, sys
import pskc
spec = json.load(sys.stdin)
container = pskc.PSKC()
for token in spec["tokens"]:
    arguments = dict(
        id=token["id"], serial="SN-" + token["id"], manufacturer="Twofold tests",
        algorithm="urn:ietf:params:xml:ns:keyprov:pskc:" + token["type"],
        secret=bytes.fromhex(token["secret"]), response_length=token["digits"], response_encoding="DECIMAL")
    arguments["key_userid" if token["userIn"] == "key" else "device_userid"] = token["user"]
    if token.get("suite"): arguments["algorithm_suite"] = token["suite"]
    if token.get("counter") is not None: arguments["counter"] = token["counter"]
    if token.get("period") is not None: arguments["time_interval"] = token["period"]
    container.add_key(**arguments)
fields = spec.get("fields") or ["secret"]
if spec["mode"] == "psk":
    container.encryption.setup_preshared_key(key=bytes.fromhex(spec["key"]), algorithm=spec["algorithm"], fields=fields)
    container.mac.setup(algorithm=spec["mac"])
elif spec["mode"] == "pbkdf2":
    container.encryption.setup_pbkdf2(spec["passphrase"], prf=spec.get("prf"), iterations=spec["iterations"], algorithm=spec.get("algorithm", "aes128-cbc"), fields=fields)
    container.mac.setup(algorithm=spec["mac"])
container.write(sys.stdout.buffer)
`;

function writeWithPython(spec: Spec): Buffer {
	return execFileSync(PYTHON, ["-c", WRITER], { input: JSON.stringify(spec) });
}

function tokens(): Token[] {
	return [
		{ id: "h1", user: "alice", userIn: "key", type: "hotp", secret: randomBytes(20).toString("hex"), digits: 6, counter: 41 },
		{ id: "t1", user: "bob", userIn: "device", type: "totp", secret: randomBytes(20).toString("hex"), digits: 6, period: 30 },
		{ id: "t2", user: "carol", userIn: "key", type: "totp", secret: randomBytes(32).toString("hex"), digits: 8, suite: "HMAC-SHA256", period: 60 },
		{ id: "h2", user: "dan", userIn: "key", type: "hotp", secret: randomBytes(10).toString("hex"), digits: 8 },
	];
}

function checkAgainst(expected: Token[], records: ImportRecord[]): void {
	expect(records.map((record) => [record.userId, record.type, record.serial, record.digits, record.algorithm, record.period, record.counter])).toEqual(
		expected.map((token) => [token.user, token.type, token.id, token.digits, token.suite === undefined ? "SHA1" : "SHA256", token.period, token.counter]),
	);
	records.forEach((record, index) => expect(Buffer.from(record.secret).toString("hex")).toBe(expected[index]!.secret));
	if (!HAS_OATHTOOL) return;
	const at = Math.floor(Date.now() / 1000);
	for (const record of records) {
		if (record.type === "hotp") {
			const counter = record.counter ?? 0;
			expect(oathtoolCode({ type: "hotp", secret: record.secret, digits: record.digits, counter })).toBe(generateHOTP(record.secret, BigInt(counter), record.digits, record.algorithm));
		} else {
			expect(oathtoolCode({ type: "totp", secret: record.secret, digits: record.digits, algorithm: record.algorithm, period: record.period!, atSeconds: at })).toBe(
				generateTOTP({ key: record.secret, nowInMilliseconds: at * 1000, periodInSeconds: record.period!, digits: record.digits, algorithm: record.algorithm }),
			);
		}
	}
}

async function recordsOf(bytes: Buffer, options: Parameters<typeof readPSKC>[1]): Promise<ImportRecord[]> {
	const items = await collect(readPSKC(chunks(bytes, 1000), options));
	return items.map((item) => {
		if (item.kind !== "record") throw new Error(`expected a record, got ${JSON.stringify(item.problem)}`);
		return item.record;
	});
}

describe.skipIf(!HAS_PYTHON_PSKC)("PSKC files written by python3-pskc", () => {
	it("plain keys", async () => {
		const expected = tokens();
		const file = writeWithPython({ mode: "plain", tokens: expected });
		checkAgainst(expected, await recordsOf(file, {}));
	});

	it.each([
		["aes128-cbc", 16, "hmac-sha1"],
		["aes128-cbc", 16, "hmac-sha256"],
		["aes256-cbc", 32, "hmac-sha256"],
	])("pre-shared key, %s with %s", async (algorithm, length, mac) => {
		const expected = tokens();
		const key = randomBytes(length as number);
		const file = writeWithPython({ mode: "psk", tokens: expected, key: key.toString("hex"), algorithm, mac, fields: ["secret", "counter", "time_interval"] });
		expect(file.toString("utf8")).toContain("EncryptedValue");
		checkAgainst(expected, await recordsOf(file, { preSharedKey: key }));
		const wrong = Buffer.from(key);
		wrong[5]! ^= 0x40;
		expect(await failureOf(readPSKC(chunks(file), { preSharedKey: wrong }))).toMatchObject({ seen: 0, error: { code: "wrong_key_or_mac" } });
	});

	it.each([
		["hmac-sha1", "hmac-sha1"],
		["hmac-sha256", "hmac-sha256"],
	])("PBKDF2 with the %s PRF and an %s MAC; a wrong passphrase refuses the file", async (prf, mac) => {
		const expected = tokens();
		const passphrase = "correct horse battery staple ✓";
		const file = writeWithPython({ mode: "pbkdf2", tokens: expected, passphrase, prf, mac, iterations: 12_000, fields: ["secret", "counter"] });
		expect(file.toString("utf8")).toContain("DerivedKey");
		checkAgainst(expected, await recordsOf(file, { passphrase }));
		const wrong = await failureOf(readPSKC(chunks(file), { passphrase: "correct horse battery stapler ✓" }));
		expect(wrong).toMatchObject({ seen: 0, error: { code: "wrong_key_or_mac" } });
		// The error carries no key material, derived or given, and no secret.
		expect(JSON.stringify({ ...wrong.error, message: wrong.error.message })).not.toMatch(/horse|[0-9a-f]{32}/);
	});
});
