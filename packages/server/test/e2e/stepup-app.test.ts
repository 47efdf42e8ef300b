import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: the example is plain JavaScript, run as it is shipped.
import { startApp } from "../../../../examples/stepup-app/server.mjs";
import { codeFor } from "../helpers.js";
import { cli, type ServerProcess, startServer } from "./process.js";

/**
 * The example application of issue 4 (examples/stepup-app), driven over HTTP
 * against a real `twofold serve` process: password login, the three kinds of
 * credential (login token before and after step-up, API token), and account
 * changes that demand a fresh assertion (RFC 9470 challenge when missing).
 */
describe("the step-up example app against a real Twofold", () => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-stepup-"));
	const env = { TWOFOLD_DATA_DIR: dataDir };
	let server: ServerProcess;
	let app: { url: string; close(): Promise<void> };
	let tenant: { tenant_id: string; api_key: string };

	const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
		const response = await fetch(`${app.url}${path}`, {
			method,
			headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		const text = await response.text();
		return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
	};
	const as = (token: string) => ({ authorization: `Token ${token}` });
	/** The authenticator app: codes for this step and the next (both inside the ±1 window), each usable once. */
	const codes = (secret: string) => [codeFor(secret, Date.now()), codeFor(secret, Date.now() + 30_000)];

	beforeAll(async () => {
		server = await startServer(env);
		tenant = JSON.parse((await cli(["tenants", "create", "--name", "Example", "--json"], env)).stdout) as { tenant_id: string; api_key: string };
		app = await startApp({ twofoldUrl: server.url, apiKey: tenant.api_key, tenantId: tenant.tenant_id, port: 0 });
	});
	afterAll(async () => {
		await app?.close();
		await server?.stop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	/** Signs up, enrolls TOTP through the app, and returns a stepped-up login token, the secret, codes left and recovery codes. */
	async function userWith2FA(email: string) {
		expect((await call("POST", "/signup", { email, password: "correct horse" })).status).toBe(201);
		const login = (await call("POST", "/login", { email, password: "correct horse" })).json.token as string;
		const enrolled = await call("POST", "/2fa/enroll", {}, as(login));
		expect(enrolled.status).toBe(201);
		const secret = new URL(enrolled.json.uri).searchParams.get("secret")!;
		const [now, next] = codes(secret);
		const confirmed = await call("POST", "/2fa/confirm", { factor_id: enrolled.json.factor_id, code: now }, as(login));
		expect(confirmed.status, JSON.stringify(confirmed.json)).toBe(200);
		return { secret, nextCode: next!, recoveryCodes: confirmed.json.recovery_codes as string[] };
	}

	it("a login token steps up with a code; until then it opens nothing but the second step", async () => {
		const { nextCode } = await userWith2FA("ada@example.com");
		const login = (await call("POST", "/login", { email: "ada@example.com", password: "correct horse" })).json.token;
		const pending = await call("GET", "/me", undefined, as(login));
		expect(pending.status).toBe(403);
		expect(pending.json.error.code).toBe("second_factor_required");
		expect((await call("POST", "/login/2fa", { code: "000000" }, as(login))).json.error.code).toBe("invalid_code");
		const stepped = await call("POST", "/login/2fa", { code: nextCode }, as(login));
		expect(stepped.status).toBe(200);
		expect((await call("GET", "/me", undefined, as(login))).json).toMatchObject({ email: "ada@example.com", credential: "login" });
	});

	it("changing the email needs a fresh assertion for exactly that change; an API token never manages the account", async () => {
		const { recoveryCodes } = await userWith2FA("bob@example.com");
		const login = (await call("POST", "/login", { email: "bob@example.com", password: "correct horse" })).json.token;
		expect((await call("POST", "/login/2fa", { code: recoveryCodes[0] }, as(login))).status).toBe(200);

		const body = { email: "robert@example.com" };
		const missing = await call("POST", "/account/email", body, as(login));
		expect(missing.status).toBe(401);
		expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer error="insufficient_user_authentication", error_description="[^"]+", max_age=300$/);

		const { assertion } = (await call("POST", "/step-up", { code: recoveryCodes[1], method: "POST", path: "/account/email", body }, as(login))).json;
		// The proof approves robert@, not an attacker's address, on the same route.
		expect((await call("POST", "/account/email", { email: "mallory@example.com" }, { ...as(login), "twofold-assertion": assertion })).status).toBe(401);
		const changed = await call("POST", "/account/email", body, { ...as(login), "twofold-assertion": assertion });
		expect(changed.status).toBe(200);
		expect(changed.json).toEqual({ email: "robert@example.com" });

		const api = (await call("POST", "/tokens", {}, as(login))).json.token;
		expect((await call("GET", "/records", undefined, as(api))).status).toBe(200);
		const { assertion: another } = (await call("POST", "/step-up", { code: recoveryCodes[2], method: "POST", path: "/account/email", body: { email: "x@example.com" } }, as(login))).json;
		const refused = await call("POST", "/account/email", { email: "x@example.com" }, { ...as(api), "twofold-assertion": another });
		expect(refused.status).toBe(403);
		expect(refused.json.error.code).toBe("token_not_allowed");
	});

	it("an assertion bound to a change approves it once: the same request again is refused, and Twofold holds it as spent (issue 13)", async () => {
		const { recoveryCodes } = await userWith2FA("fay@example.com");
		const login = (await call("POST", "/login", { email: "fay@example.com", password: "correct horse" })).json.token;
		expect((await call("POST", "/login/2fa", { code: recoveryCodes[0] }, as(login))).status).toBe(200);
		const body = { email: "faye@example.com" };
		const { assertion } = (await call("POST", "/step-up", { code: recoveryCodes[1], method: "POST", path: "/account/email", body }, as(login))).json;
		expect((await call("POST", "/account/email", body, { ...as(login), "twofold-assertion": assertion })).status).toBe(200);
		// Replayed within its five minutes (a proxy log, a double submit): refused with the RFC 9470 challenge.
		const replayed = await call("POST", "/account/email", body, { ...as(login), "twofold-assertion": assertion });
		expect(replayed.status).toBe(401);
		expect(replayed.headers.get("www-authenticate")).toContain('error="insufficient_user_authentication", error_description="The second-factor assertion was used already"');
		const redeem = await fetch(`${server.url}/v1/assertions/redeem`, {
			method: "POST",
			headers: { authorization: `Bearer ${tenant.api_key}`, "content-type": "application/json" },
			body: JSON.stringify({ assertion }),
		});
		expect(((await redeem.json()) as { error: { code: string } }).error.code).toBe("assertion_redeemed");
	});

	it("disabling 2FA spends the assertion at Twofold; deleting the account needs one too", async () => {
		const { nextCode, recoveryCodes } = await userWith2FA("cy@example.com");
		const login = (await call("POST", "/login", { email: "cy@example.com", password: "correct horse" })).json.token;
		expect((await call("POST", "/login/2fa", { code: nextCode }, as(login))).status).toBe(200);
		// An assertion from a recovery code names no factor to remove.
		const fromRecovery = (await call("POST", "/step-up", { code: recoveryCodes[0] }, as(login))).json.assertion;
		expect((await call("POST", "/2fa/disable", {}, { ...as(login), "twofold-assertion": fromRecovery })).json.error.code).toBe("factor_required");

		expect((await call("POST", "/account/delete", {}, as(login))).status).toBe(401);
		const { assertion } = (await call("POST", "/step-up", { code: recoveryCodes[1], method: "POST", path: "/account/delete", body: {} }, as(login))).json;
		expect((await call("POST", "/account/delete", {}, { ...as(login), "twofold-assertion": assertion })).json).toEqual({ deleted: true });
		expect((await call("GET", "/me", undefined, as(login))).status).toBe(401);
	});

	it("disables 2FA with an assertion from the factor itself, once", async () => {
		const { secret } = await userWith2FA("dee@example.com");
		const login = (await call("POST", "/login", { email: "dee@example.com", password: "correct horse" })).json.token;
		// The confirm used this step's code; the next step's code is still free.
		const fresh = (await call("POST", "/login/2fa", { code: codeFor(secret, Date.now() + 30_000) }, as(login))).json.assertion;
		const disabled = await call("POST", "/2fa/disable", {}, { ...as(login), "twofold-assertion": fresh });
		expect(disabled.status, JSON.stringify(disabled.json)).toBe(200);
		expect(disabled.json.second_factor).toBe(false);
		// Once: the same assertion again removes nothing, and Twofold holds it as spent (R-AS-5): redeeming it
		// now answers assertion_redeemed, where an unspent one would redeem (issue 20).
		const again = await call("POST", "/2fa/disable", {}, { ...as(login), "twofold-assertion": fresh });
		expect(again.status).not.toBe(200);
		const redeem = await fetch(`${server.url}/v1/assertions/redeem`, {
			method: "POST",
			headers: { authorization: `Bearer ${tenant.api_key}`, "content-type": "application/json" },
			body: JSON.stringify({ assertion: fresh }),
		});
		expect(redeem.status).toBe(409);
		expect(((await redeem.json()) as { error: { code: string } }).error.code).toBe("assertion_redeemed");
	});

	it("a rotation by the CLI reaches the running server without a restart", async () => {
		const { nextCode } = await userWith2FA("eve@example.com");
		const rotated = JSON.parse((await cli(["keys", "rotate-signing", "--immediate", "--json"], env)).stdout) as { kid: string };
		await new Promise((resolve) => setTimeout(resolve, 1100)); // the server re-reads its keys within a second
		const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
		expect(jwks.keys.map((key) => key.kid)).toContain(rotated.kid);
		const user = (await call("POST", "/login", { email: "eve@example.com", password: "correct horse" })).json.token;
		const stepped = (await call("POST", "/login/2fa", { code: nextCode }, { authorization: `Token ${user}` })).json.assertion as string;
		expect(JSON.parse(Buffer.from(stepped.split(".")[0]!, "base64url").toString()).kid).toBe(rotated.kid);
	});
});
