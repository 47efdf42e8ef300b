import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeFor } from "../helpers.js";
import { SMTPSink } from "../smtp-sink.js";
import { cli, type ServerProcess, startServer } from "./process.js";

/**
 * The backup-restore replay drill (D-6, SECURITY.md check 22), with the real
 * server process, `twofold backup` taken while it runs, and a restore by
 * copying the file back. Without the fence, the restore re-opens every code
 * used since the backup; after `twofold restore-fence` none is accepted.
 */
describe("backup, restore and restore-fence (D-6)", () => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-drill-"));
	const backupFile = join(mkdtempSync(join(tmpdir(), "twofold-backup-")), "twofold-backup.db");
	const smtp = new SMTPSink();
	let env: Record<string, string>;
	let server: ServerProcess | undefined;
	let key: string;

	const call = async (method: string, path: string, body?: unknown) => {
		const response = await fetch(`${server!.url}${path}`, {
			method,
			headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		return { status: response.status, json: (await response.json().catch(() => undefined)) as any };
	};
	/** A restore as an operator does it: server stopped, the backup copied over the database, no stale WAL. */
	const restore = async () => {
		await server?.stop();
		server = undefined;
		for (const suffix of ["-wal", "-shm"]) rmSync(join(dataDir, `twofold.db${suffix}`), { force: true });
		copyFileSync(backupFile, join(dataDir, "twofold.db"));
	};

	beforeAll(async () => {
		await smtp.start();
		env = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64"), TWOFOLD_LOG_LEVEL: "warn", TWOFOLD_PUBLIC_URL: "https://twofold.drill.example", TWOFOLD_SMTP_URL: smtp.url, TWOFOLD_SMTP_FROM: "twofold@example.com" };
		// An installation is set up by migrate (or serve); the other commands refuse an empty data dir (issue 13).
		expect((await cli(["migrate"], env)).code).toBe(0);
		key = (JSON.parse((await cli(["tenants", "create", "--name", "Drill", "--json"], env)).stdout) as { api_key: string }).api_key;
		server = await startServer(env);
	});
	afterAll(async () => {
		await server?.stop();
		await smtp.stop();
		rmSync(dataDir, { recursive: true, force: true });
		rmSync(join(backupFile, ".."), { recursive: true, force: true });
	});

	it("codes used after the backup are accepted again after a bare restore, and refused after the fence", async () => {
		await call("PATCH", "/v1/tenant", { email: { enabled: true } });
		const enrolled = await call("POST", "/v1/users/drill/factors", { type: "totp" });
		const secret: string = enrolled.json.totp.secret;
		const confirmed = await call("POST", `/v1/users/drill/factors/${enrolled.json.factor.id}/confirm`, { code: codeFor(secret, Date.now()) });
		const recoveryCode: string = confirmed.json.recovery_codes[0];
		const challenge: string = (await call("POST", "/v1/users/drill/challenges", { type: "email", to: "drill@example.com" })).json.challenge.id;
		const emailCode = smtp.codeFor("drill@example.com");

		// The backup, taken while the server runs.
		const backedUp = await cli(["backup", backupFile, "--json"], env);
		expect(backedUp.code, backedUp.stderr).toBe(0);
		expect(statSync(backupFile).mode & 0o777).toBe(0o600);
		expect((await cli(["backup", backupFile], env)).code).toBe(1); // never overwrites

		// Used after the backup: a TOTP code, a recovery code, the email code, and an assertion redeemed.
		const totpCode = codeFor(secret, Date.now() + 30_000);
		const used = {
			totp: await call("POST", "/v1/users/drill/verify", { code: totpCode }),
			recovery: await call("POST", "/v1/users/drill/verify", { code: recoveryCode }),
			email: await call("POST", "/v1/users/drill/verify", { challenge_id: challenge, code: emailCode }),
		};
		for (const result of Object.values(used)) expect(result.status).toBe(200);
		const assertion: string = used.totp.json.assertion;
		expect((await call("POST", "/v1/assertions/redeem", { assertion })).status).toBe(200);
		const replays = async () => ({
			totp: (await call("POST", "/v1/users/drill/verify", { code: totpCode })).status,
			recovery: (await call("POST", "/v1/users/drill/verify", { code: recoveryCode })).status,
			email: (await call("POST", "/v1/users/drill/verify", { challenge_id: challenge, code: emailCode })).status,
			assertion: (await call("POST", "/v1/assertions/redeem", { assertion })).status,
		});
		expect(await replays()).toEqual({ totp: 422, recovery: 422, email: 422, assertion: 409 });

		// The hole: a bare restore brings every one of them back (the issuer is fixed, so the restarted
		// server on another port still reads its own assertions).
		await restore();
		server = await startServer(env);
		expect(await replays()).toEqual({ totp: 200, recovery: 200, email: 200, assertion: 200 });

		// Restore again, fence, start: not one is accepted.
		await restore();
		const fenced = await cli(["restore-fence", "--revoke-recovery-codes", "--json"], env);
		expect(fenced.code, fenced.stderr).toBe(0);
		expect(JSON.parse(fenced.stdout)).toMatchObject({ totp_factors_fenced: 1, challenges_revoked: 1, recovery_code_users_revoked: 1, tenants_notified: 1 });
		server = await startServer(env);
		expect(await replays()).toEqual({ totp: 422, recovery: 422, email: 422, assertion: 422 });
		expect((await call("GET", "/v1/users/drill")).json.recovery_codes_remaining).toBe(0);

		// The user carries on: a new email code works, and its assertion redeems under the new key.
		const again: string = (await call("POST", "/v1/users/drill/challenges", { type: "email", to: "drill@example.com" })).json.challenge.id;
		const fresh = await call("POST", "/v1/users/drill/verify", { challenge_id: again, code: smtp.codeFor("drill@example.com") });
		expect(fresh.status).toBe(200);
		expect((await call("POST", "/v1/assertions/redeem", { assertion: fresh.json.assertion })).status).toBe(200);
	}, 60_000);
});
