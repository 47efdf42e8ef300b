import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBase32 } from "../../src/core/base32.js";
import { cli, hasTool, type ServerProcess, startServer } from "./process.js";

const TOOLS = hasTool("oathtool", "oathtool") && hasTool("zbarimg", "zbar-tools");

/** oathtool as the HOTP token (RFC 4226): `oathtool --hotp -c N [-w W] <hex key>`, or `-b <base32 key>`; one code per line. */
function token(key: string, counter: number, options: { base32?: boolean; window?: number } = {}): string[] {
	const args = ["--hotp", "-c", String(counter), ...(options.window === undefined ? [] : ["-w", String(options.window)]), ...(options.base32 ? ["-b"] : []), key];
	return execFileSync("oathtool", args, { encoding: "utf8" }).trim().split("\n");
}

/**
 * HOTP factors against the real server process (issue 14): the QR code decoded by zbarimg, codes from oathtool as
 * a token makes them, the look-ahead window, a resync after the token ran ahead, and the restore fence's
 * --hotp-advance from the CLI (D-6).
 */
describe.skipIf(!TOOLS)("end to end: an HOTP token played by oathtool", () => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-e2e-hotp-"));
	const env = { TWOFOLD_DATA_DIR: dataDir };
	let server: ServerProcess;
	let apiKey: string;
	const call = async (method: string, path: string, body?: unknown) => {
		const response = await fetch(`${server.url}${path}`, {
			method,
			headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		const text = await response.text();
		return { status: response.status, json: text ? JSON.parse(text) : undefined };
	};

	beforeAll(async () => {
		server = await startServer(env);
		const created = await cli(["tenants", "create", "--name", "HOTP Test", "--json"], env);
		expect(created.code).toBe(0);
		apiKey = (JSON.parse(created.stdout) as { api_key: string }).api_key;
	});
	afterAll(async () => {
		await server?.stop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	it("scans the otpauth://hotp QR code, confirms, verifies within the look-ahead, refuses replays, resyncs", async () => {
		const enrolled = await call("POST", "/v1/users/token-user/factors", { type: "hotp", counter: 3 });
		expect(enrolled.status).toBe(201);
		const png = join(dataDir, "qr.png");
		writeFileSync(png, Buffer.from(enrolled.json.hotp.qr_png.split(",")[1], "base64"));
		const uri = execFileSync("zbarimg", ["-q", "--raw", png], { encoding: "utf8" }).trim();
		rmSync(png);
		expect(uri).toBe(enrolled.json.hotp.uri);
		const parsed = new URL(uri);
		expect(parsed.protocol + parsed.host).toBe("otpauth:hotp");
		expect(parsed.searchParams.get("counter")).toBe("3");
		const secret = parsed.searchParams.get("secret")!;
		const code = (counter: number) => token(secret, counter, { base32: true })[0]!;

		const factorId = enrolled.json.factor.id as string;
		expect((await call("POST", `/v1/users/token-user/factors/${factorId}/confirm`, { code: code(3) })).status).toBe(200);
		expect((await call("POST", "/v1/users/token-user/verify", { code: code(4) })).json.method).toBe("hotp");
		expect((await call("POST", "/v1/users/token-user/verify", { code: code(4) })).json.error.code).toBe("invalid_code");
		// Pressed six times without using the codes: 11 is within last+1 … last+1+10.
		expect((await call("POST", "/v1/users/token-user/verify", { code: code(11) })).status).toBe(200);
		// Far ahead: 40 alone is refused; two consecutive codes (oathtool -w 1 prints 40 and 41) resync it.
		expect((await call("POST", "/v1/users/token-user/verify", { code: code(40) })).status).toBe(422);
		const pair = token(secret, 40, { base32: true, window: 1 });
		expect(pair).toHaveLength(2);
		const resynced = await call("POST", `/v1/users/token-user/factors/${factorId}/resync`, { codes: pair });
		expect(resynced.status).toBe(200);
		expect(resynced.json.factor.id).toBe(factorId);
		expect((await call("POST", "/v1/users/token-user/verify", { code: code(41) })).status).toBe(422);
		expect((await call("POST", "/v1/users/token-user/verify", { code: code(42) })).status).toBe(200);
	});

	it("imports a token's hex key (8 digits, SHA-1) whose secret is not echoed; the restore fence's --hotp-advance moves it on", async () => {
		const key = randomBytes(20);
		const enrolled = await call("POST", "/v1/users/fob-user/factors", { type: "hotp", secret: encodeBase32(key), counter: 100, digits: 8 });
		expect(enrolled.status).toBe(201);
		expect(enrolled.json.hotp).toBeUndefined();
		const code = (counter: number) => execFileSync("oathtool", ["--hotp", "-d", "8", "-c", String(counter), key.toString("hex")], { encoding: "utf8" }).trim();
		const factorId = enrolled.json.factor.id as string;
		expect((await call("POST", `/v1/users/fob-user/factors/${factorId}/confirm`, { code: code(100) })).status).toBe(200);

		await server.stop();
		expect((await cli(["restore-fence", "--hotp-advance", "not-a-number"], env)).code).toBe(1);
		const fenced = await cli(["restore-fence", "--hotp-advance", "20", "--json"], env);
		expect(fenced.code, fenced.stderr).toBe(0);
		expect(JSON.parse(fenced.stdout)).toMatchObject({ hotp_factors_fenced: 2, hotp_counters_advanced_by: 20 });
		server = await startServer(env);

		for (const counter of [101, 120]) expect((await call("POST", "/v1/users/fob-user/verify", { code: code(counter) })).status).toBe(422);
		expect((await call("POST", "/v1/users/fob-user/verify", { code: code(121) })).json.method).toBe("hotp");
	});
});
