import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { masterKeyId } from "../../src/core/keyring.js";
import { rewrapSecrets } from "../../src/services/master-key-rotation.js";
import { openWebhookSecret } from "../../src/services/webhooks.js";
import { codeFor, createPostgresSchema, DIALECTS } from "../helpers.js";
import { SMTPSink } from "../smtp-sink.js";

const USERS = 30;

/**
 * Master-key rotation (R-ST-3, D-8) on one database: the old key kept after the
 * new one opens everything; rewrapping while verifies run fails none of them;
 * afterwards the new key alone opens everything; and a node whose keys cannot
 * open the stored secrets refuses to start instead of answering with errors.
 */
describe.each(DIALECTS)("master-key rotation (%s)", (dialect) => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-kek-"));
	const smtp = new SMTPSink();
	const oldKey = randomBytes(32);
	const newKey = randomBytes(32);
	let schema: Awaited<ReturnType<typeof createPostgresSchema>> | undefined;
	let apiKey: string;
	let webhookSecret: string;
	let previousWebhookSecret: string;
	const secrets: string[] = [];

	const open = (keys: Buffer[]) =>
		createApp(
			loadConfig(
				{
					TWOFOLD_DATA_DIR: dataDir,
					TWOFOLD_MASTER_KEY: keys.map((key) => key.toString("base64")).join(","),
					TWOFOLD_SMTP_URL: smtp.url,
					TWOFOLD_SMTP_FROM: "twofold@example.com",
					TWOFOLD_WEBHOOK_ALLOW_PRIVATE: "true",
					...(schema === undefined ? {} : { TWOFOLD_DATABASE_URL: schema.url }),
				},
				process.cwd(),
			),
			{ logger: false },
		);
	const caller = async (app: App) => {
		const http = await app.http();
		return async (method: string, url: string, body?: unknown) => {
			const response = await http.inject({ method: method as "POST", url, headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
			return { status: response.statusCode, json: response.json() as any };
		};
	};

	beforeAll(async () => {
		await smtp.start();
		schema = dialect === "postgres" ? await createPostgresSchema() : undefined;
		const app = await open([oldKey]);
		try {
			apiKey = (await app.services.tenants.create("kek")).apiKey;
			const call = await caller(app);
			await call("PATCH", "/v1/tenant", { email: { enabled: true } });
			for (let i = 0; i < USERS; i++) {
				const enrolled = await call("POST", `/v1/users/k-${i}/factors`, { type: "totp" });
				expect((await call("POST", `/v1/users/k-${i}/factors/${enrolled.json.factor.id}/confirm`, { code: codeFor(enrolled.json.totp.secret, Date.now()) })).status).toBe(200);
				secrets.push(enrolled.json.totp.secret);
			}
			const webhook = (await call("POST", "/v1/webhooks", { url: "http://127.0.0.1:9/hook", events: ["*"] })).json;
			previousWebhookSecret = webhook.secret;
			// Rotated, so the old webhook secret is stored too (it signs beside the new one for a day).
			webhookSecret = (await call("POST", `/v1/webhooks/${webhook.webhook.id}/rotate-secret`, {})).json.secret;
		} finally {
			await app.close();
		}
	});
	afterAll(async () => {
		await smtp.stop();
		await schema?.drop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	it("new key first and the old one after: old secrets open, new ones are sealed under the new key, a rewrap under load fails no verify", async () => {
		const app = await open([newKey, oldKey]);
		try {
			const call = await caller(app);
			const enrolledNew = await call("POST", "/v1/users/k-new/factors", { type: "totp" });
			expect(enrolledNew.status).toBe(201);

			// Verifies of half the old users (the even ones; the others are kept for the last test) run while
			// the rewrap goes through the same rows.
			const verifies = secrets.flatMap((secret, i) => (i % 2 === 0 ? [call("POST", `/v1/users/k-${i}/verify`, { code: codeFor(secret, Date.now() + 30_000) })] : []));
			// Pages of 7, so the keyset pagination crosses several pages (and users, 31 factors in all).
			const report = await rewrapSecrets(app.services.deps, { pageSize: 7 });
			const results = await Promise.all(verifies);
			expect(results.map((r) => r.status)).toEqual(Array(USERS / 2).fill(200));
			// Every old factor, the assertion signing key, the two id_token keys (RS256, EdDSA; issue 15) and both webhook
			// secrets; the new pending factor was sealed under the new key.
			expect(report.rewrapped).toBe(USERS + 5);
			expect(report.examined).toBe(USERS + 1 + 5);
			expect(report.key_ids_in_use).toEqual([masterKeyId(newKey)]);
			expect(report.active_key_id).toBe(masterKeyId(newKey));
			expect((await rewrapSecrets(app.services.deps)).rewrapped).toBe(0);
		} finally {
			await app.close();
		}
	});

	it("an email code sent before the switch still checks after it", async () => {
		const before = await open([oldKey, newKey]);
		let challenge: string;
		try {
			challenge = (await (await caller(before))("POST", "/v1/users/k-mail/challenges", { type: "email", to: "k-mail@example.com" })).json.challenge.id;
		} finally {
			await before.close();
		}
		const after = await open([newKey, oldKey]);
		try {
			const verified = await (await caller(after))("POST", "/v1/users/k-mail/verify", { challenge_id: challenge, code: smtp.codeFor("k-mail@example.com") });
			expect(verified.status).toBe(200);
		} finally {
			await after.close();
		}
	});

	it("after the rewrap the new key alone opens everything; the old key alone refuses to start, naming the missing key", async () => {
		const app = await open([newKey]);
		try {
			const call = await caller(app);
			for (const [i, secret] of secrets.entries()) {
				if (i % 2 === 1) expect((await call("POST", `/v1/users/k-${i}/verify`, { code: codeFor(secret, Date.now() + 30_000) })).status, `k-${i}`).toBe(200);
			}
			const [webhook] = await app.store.webhooks.list((await app.store.tenants.list())[0]!.id);
			expect(openWebhookSecret(app.services.deps, webhook!, webhook!.secret_envelope)).toBe(webhookSecret);
			expect(openWebhookSecret(app.services.deps, webhook!, webhook!.previous_secret_envelope!)).toBe(previousWebhookSecret);
		} finally {
			await app.close();
		}
		const refused = open([oldKey]);
		await expect(refused).rejects.toThrow(ConfigError);
		await expect(open([oldKey])).rejects.toThrow(masterKeyId(newKey));
	});
});
