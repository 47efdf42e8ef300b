import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBase32 } from "../../src/core/base32.js";
import { cli, hasTool, type ServerProcess, startServer } from "./process.js";

const TOOLS = hasTool("oathtool", "oathtool") && hasTool("zbarimg", "zbar-tools");

/**
 * The path a phone takes, against the real server process: the QR code is
 * decoded by zbarimg and codes come from oathtool, as an authenticator app
 * would make them. Then a canary scan: the secret, codes and recovery codes
 * must appear nowhere in logs, database files or events (R-ST-1, R-ST-4, V-13).
 */
describe.skipIf(!TOOLS)("end to end, as a phone would do it", () => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-e2e-"));
	const env = { TWOFOLD_DATA_DIR: dataDir };
	let server: ServerProcess;
	let logs = "";
	let apiKey: string;
	const call = async (method: string, path: string, body?: unknown) => {
		const response = await fetch(`${server.url}${path}`, {
			method,
			headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		const text = await response.text();
		return { status: response.status, text, json: text ? JSON.parse(text) : undefined };
	};

	beforeAll(async () => {
		server = await startServer(env);
	});
	afterAll(async () => {
		await server?.stop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	// Collected along the way for the canary scan.
	const secrets: string[] = [];
	const codes: string[] = [];
	const recoveryCodes: string[] = [];

	it("enrolls, scans, confirms, verifies, rejects a replay across a restart, recovers and deletes", async () => {
		// The first start printed a first tenant's key once; the CLI makes another while the server runs.
		expect(server.output()).toMatch(/admin API key is shown only this once/);
		const created = await cli(["tenants", "create", "--name", "Phone Test", "--json"], env);
		expect(created.code).toBe(0);
		const tenant = JSON.parse(created.stdout) as { tenant_id: string; api_key: string };
		expect(tenant.tenant_id).toMatch(/^ten_/);
		apiKey = tenant.api_key;

		const enrolled = await call("POST", "/v1/users/phone-user/factors", { type: "totp", issuer: "Phone Test" });
		expect(enrolled.status).toBe(201);
		const factorId: string = enrolled.json.factor.id;
		secrets.push(enrolled.json.totp.secret);

		const png = join(dataDir, "qr.png");
		writeFileSync(png, Buffer.from(enrolled.json.totp.qr_png.split(",")[1], "base64"));
		const uri = execFileSync("zbarimg", ["-q", "--raw", png], { encoding: "utf8" }).trim();
		expect(uri).toBe(enrolled.json.totp.uri);
		rmSync(png);
		const parsed = new URL(uri);
		const secret = parsed.searchParams.get("secret")!;
		expect(decodeURIComponent(parsed.pathname)).toBe("/Phone Test:phone-user");

		// oathtool plays the authenticator; the next step's code is inside the ±1 window, so no waiting.
		const at = (offsetInSteps: number): string =>
			execFileSync("oathtool", ["--totp", "-b", secret, "--now", `@${Math.floor(Date.now() / 1000) + offsetInSteps * 30}`], { encoding: "utf8" }).trim();
		const current = at(0);
		const next = at(1);
		codes.push(current, next);

		const confirmed = await call("POST", `/v1/users/phone-user/factors/${factorId}/confirm`, { code: current });
		expect(confirmed.status).toBe(200);
		expect(confirmed.json.factor.status).toBe("active");
		recoveryCodes.push(...confirmed.json.recovery_codes);

		const verified = await call("POST", "/v1/users/phone-user/verify", { code: next });
		expect(verified.status).toBe(200);
		expect(verified.json).toMatchObject({ valid: true, method: "totp", factor_id: factorId });

		const replay = await call("POST", "/v1/users/phone-user/verify", { code: next });
		expect(replay.status).toBe(422);
		expect(replay.text).not.toContain(next);

		// A restart forgets nothing: the used steps stay used (R-OTP-1).
		await server.stop();
		logs += server.output();
		server = await startServer(env);
		expect(server.output()).not.toMatch(/first tenant/);
		expect((await call("POST", "/v1/users/phone-user/verify", { code: next })).status).toBe(422);
		expect((await call("POST", "/v1/users/phone-user/verify", { code: current })).status).toBe(422);

		const recovered = await call("POST", "/v1/users/phone-user/verify", { code: recoveryCodes[0] });
		expect(recovered.status).toBe(200);
		expect(recovered.json).toMatchObject({ method: "recovery_code", recovery_codes_remaining: 9 });
		expect((await call("POST", "/v1/users/phone-user/verify", { code: recoveryCodes[0] })).status).toBe(422);

		const removed = await call("DELETE", `/v1/users/phone-user/factors/${factorId}`, { code: recoveryCodes[1] });
		expect(removed.status).toBe(204);
		expect((await call("GET", "/v1/users/phone-user")).json).toMatchObject({ factors: [], recovery_codes_remaining: 0 });

		// Exercise error paths too, so their logs are part of the scan.
		await call("POST", "/v1/users/phone-user/verify", { code: ` ${at(0)}` });
		await fetch(`${server.url}/v1/users/phone-user/verify`, {
			method: "POST",
			headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
			body: `{"code":"${recoveryCodes[2]}"`,
		});
		const events = await call("GET", "/v1/events?user_id=phone-user&limit=100");
		expect(events.json.events.map((e: { type: string }) => e.type)).toContain("verification.replay_rejected");
		logs += `\n${events.text}`;
	});

	it("canary: no secret, code or recovery code in logs, events or database files (R-ST-1, R-ST-4, V-13)", async () => {
		expect(secrets).toHaveLength(1);
		await server.stop();
		logs += server.output();
		const secretBytes = Buffer.from(decodeBase32(secrets[0]!)!);
		const needles = [
			secrets[0]!,
			secrets[0]!.toLowerCase(),
			secretBytes.toString("hex"),
			secretBytes.toString("base64"),
			...recoveryCodes,
			...recoveryCodes.map((c) => c.replace(/-/g, "")),
		];
		const files = readdirSync(dataDir).filter((f) => f.startsWith("twofold.db"));
		expect(files).toContain("twofold.db");
		const haystacks: [string, Buffer][] = [["logs", Buffer.from(logs)], ...files.map((f): [string, Buffer] => [f, readFileSync(join(dataDir, f))])];
		for (const [name, haystack] of haystacks) {
			for (const needle of needles) expect(haystack.includes(Buffer.from(needle)), `${name} contains a secret`).toBe(false);
			// The raw seed bytes, too: nothing holds it unencrypted.
			expect(haystack.includes(secretBytes), `${name} contains the raw seed`).toBe(false);
			const text = haystack.toString("latin1");
			for (const code of codes) expect(new RegExp(`(?<![0-9])${code}(?![0-9])`).test(text), `${name} contains code ${code}`).toBe(false);
		}
		// The API key printed once on first start is not in any structured log line.
		const logLines = logs.split("\n").filter((line) => line.startsWith("{"));
		expect(logLines.length).toBeGreaterThan(5);
		expect(logLines.join("\n")).not.toMatch(/tfk_/);
		expect(readFileSync(join(dataDir, "master.key"), "utf8")).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
	});
});

describe("start-up refusals", () => {
	it("an invalid variable stops the process with a message naming it", async () => {
		const result = await cli(["serve"], { TWOFOLD_PORT: "eighty" });
		expect(result.code).toBe(1);
		expect(result.stderr).toContain("TWOFOLD_PORT");
		const key = await cli(["migrate"], { TWOFOLD_DATA_DIR: mkdtempSync(join(tmpdir(), "twofold-key-")), TWOFOLD_MASTER_KEY: randomBytes(8).toString("base64") });
		expect(key.code).toBe(1);
		expect(key.stderr).toContain("TWOFOLD_MASTER_KEY");
	});
});
