// The export service (issue 17) on both dialects: runExport writes a tenant's active TOTP and HOTP factors as a PSKC
// file (decrypted here by Debian's python3-pskc, an implementation we did not write) or as otpauth URIs, audits each
// user, and round-trips: the file imported into a fresh Twofold on a fresh database gives codes, made by oathtool from
// the original secrets, that verify there for the same users, once.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceError } from "../src/contract/service-error.js";
import { decodeBase32, encodeBase32 } from "../src/core/base32.js";
import { generateHOTP } from "../src/core/hotp.js";
import { type ExportOptions, PAGE_USERS, runExport } from "../src/services/exports.js";
import { importItems, runImport } from "../src/services/imports.js";
import { tenantContext, type TenantContext } from "../src/services/tenant-context.js";
import type { ImportItem } from "../src/token-files/import-record.js";
import { hasTool } from "./e2e/process.js";
import { buildTestApp, DIALECTS, enrollActive, IN_CI, nextStep, type TestApp } from "./helpers.js";

const OATHTOOL = hasTool("oathtool", "oathtool");
const PYTHON = "/usr/bin/python3";
const PYTHON_PSKC = spawnSync(PYTHON, ["-c", "import pskc"]).status === 0;
if (!PYTHON_PSKC && IN_CI) throw new Error("python3-pskc is required under CI=true (Debian package python3-pskc)");
if (!PYTHON_PSKC) console.warn("[skip] python3-pskc not installed: apt-get install python3-pskc to run the export service suite");

const PASSPHRASE = "export passphrase for the tests";
const dir = mkdtempSync(join(tmpdir(), "twofold-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function oathTOTP(secret: Uint8Array, unixSeconds: number, options: { digits?: number; period?: number; algorithm?: string } = {}): string {
	const args = [`--totp=${options.algorithm ?? "SHA1"}`, "-b", "-d", String(options.digits ?? 6), "-s", `${options.period ?? 30}s`, "-N", `@${unixSeconds}`, encodeBase32(secret)];
	return execFileSync("oathtool", args, { encoding: "utf8" }).trim();
}
function oathHOTP(secret: Uint8Array, counter: number, digits = 6): string {
	return execFileSync("oathtool", ["-b", "-d", String(digits), "-c", String(counter), encodeBase32(secret)], { encoding: "utf8" }).trim();
}

/** python3-pskc decrypts the file with the passphrase and lists its keys (secrets in hex). */
function pythonKeys(text: string): { id: string; user: string; algorithm: string; digits: number; counter: number | null; interval: number | null; secret: string }[] {
	const path = join(dir, `${randomBytes(6).toString("hex")}.pskc.xml`);
	writeFileSync(path, text);
	const script =
		"import json, sys, pskc\nf = pskc.PSKC(sys.argv[1])\nf.encryption.derive_key(sys.stdin.read())\n" +
		"print(json.dumps([{'id': k.id, 'user': k.key_userid, 'algorithm': k.algorithm_suite, 'digits': k.response_length, 'counter': k.counter, 'interval': k.time_interval, 'secret': k.secret.hex()} for k in f.keys]))";
	return JSON.parse(execFileSync(PYTHON, ["-c", script, path], { input: PASSPHRASE, encoding: "utf8" }));
}

async function exportToString(t: TestApp, ctx: TenantContext, options: ExportOptions) {
	const chunks: string[] = [];
	const result = await runExport(t.app.services.deps, ctx, options, async (chunk) => {
		chunks.push(chunk);
	});
	return { text: chunks.join(""), result };
}

async function* bytesOf(text: string): AsyncGenerator<Uint8Array> {
	const bytes = Buffer.from(text, "utf8");
	for (let offset = 0; offset < bytes.length; offset += 1000) yield bytes.subarray(offset, offset + 1000);
}

async function adminContext(t: TestApp, tenantId = t.tenantId): Promise<TenantContext> {
	const { store } = t.app.services.deps;
	const tenant = await store.tenants.find(tenantId);
	const [key] = await store.apiKeys.list(tenantId);
	return tenantContext(tenant!, { id: key!.id, scope: "admin" });
}

describe.skipIf(!OATHTOOL || !PYTHON_PSKC).each(DIALECTS)("export service (%s)", (dialect) => {
	let t: TestApp;
	let ctx: TenantContext;
	const secrets: Record<string, Uint8Array> = {};

	beforeAll(async () => {
		t = await buildTestApp({ dialect });
		ctx = await adminContext(t);
		// ann: TOTP; cid: TOTP SHA-256, 8 digits, 60 s; bob: HOTP imported at counter 5, confirmed (5) and used once (6),
		// so its next counter is 7; dee: a passkey only; eve: a pending TOTP only (never exported).
		secrets.ann = decodeBase32((await enrollActive(t, "ann")).secret)!;
		secrets.cid = decodeBase32((await enrollActive(t, "cid", { algorithm: "SHA256", digits: 8, period: 60 })).secret)!;
		secrets.bob = randomBytes(20);
		const enrolled = await t.call("POST", "/v1/users/bob/factors", { type: "hotp", secret: encodeBase32(secrets.bob), counter: 5 });
		expect(enrolled.status, enrolled.body).toBe(201);
		expect((await t.call("POST", `/v1/users/bob/factors/${enrolled.json.factor.id}/confirm`, { code: generateHOTP(secrets.bob, 5n, 6, "SHA1") })).status).toBe(200);
		expect((await t.call("POST", "/v1/users/bob/verify", { code: generateHOTP(secrets.bob, 6n, 6, "SHA1") })).status).toBe(200);
		const now = t.clock().getTime();
		await t.app.services.deps.store.users.ensure(t.tenantId, "dee", now);
		await t.app.services.deps.store.factors.insert({
			id: "fac_passkeyofdee0000000000",
			tenant_id: t.tenantId,
			user_id: "dee",
			type: "webauthn",
			status: "active",
			label: "dee's key",
			secret_envelope: null,
			algorithm: null,
			digits: null,
			period: null,
			last_used_step: -1,
			created_at: now,
			expires_at: null,
			activated_at: now,
			last_used_at: null,
			deleted_at: null,
		});
		expect((await t.call("POST", "/v1/users/eve/factors", { type: "totp" })).status).toBe(201);
	});
	afterAll(() => t.close());

	it("PSKC: python3-pskc decrypts the same secrets, HOTP's next counter, TOTP's period, digits and algorithm; passkeys and pending factors are left out", async () => {
		const { text, result } = await exportToString(t, ctx, { format: "pskc", passphrase: PASSPHRASE });
		expect(result).toEqual({ users: 3, factors: 3, webauthn_not_exported: 1, users_without_exportable_factor: 1, listed_users_not_found: 0 });
		const keys = pythonKeys(text);
		expect(keys.map((key) => ({ ...key, id: undefined }))).toEqual([
			{ id: undefined, user: "ann", algorithm: "HMAC-SHA1", digits: 6, counter: null, interval: 30, secret: Buffer.from(secrets.ann!).toString("hex") },
			{ id: undefined, user: "bob", algorithm: "HMAC-SHA1", digits: 6, counter: 7, interval: null, secret: Buffer.from(secrets.bob!).toString("hex") },
			{ id: undefined, user: "cid", algorithm: "HMAC-SHA256", digits: 8, counter: null, interval: 60, secret: Buffer.from(secrets.cid!).toString("hex") },
		]);
		for (const key of keys) expect(key.id).toMatch(/^fac_/);
	});

	it("audits each exported user once (factor.exported: format, factor ids, actor; never a secret), before writing", async () => {
		const before = await t.call("GET", "/v1/events?type=factor.exported&limit=100");
		const { result } = await exportToString(t, ctx, { format: "otpauth" });
		expect(result.users).toBe(3);
		const after = (await t.call("GET", "/v1/events?type=factor.exported&limit=100")).json.events as { user_id: string; data: Record<string, unknown> }[];
		const fresh = after.slice(0, after.length - before.json.events.length);
		expect(fresh.map((event) => event.user_id).sort()).toEqual(["ann", "bob", "cid"]);
		for (const event of fresh) {
			expect(event.data).toMatchObject({ format: "otpauth", actor_key_id: ctx.keyId, factor_ids: [expect.stringMatching(/^fac_/)] });
			const body = JSON.stringify(event);
			for (const secret of Object.values(secrets)) for (const form of [encodeBase32(secret), Buffer.from(secret).toString("hex"), Buffer.from(secret).toString("base64")]) expect(body).not.toContain(form);
		}
		// A failing output: the page's users were audited, and nothing more is written after the failure.
		const failing = runExport(t.app.services.deps, ctx, { format: "otpauth" }, async (chunk) => {
			if (chunk.startsWith("otpauth://")) throw new Error("disk full");
		});
		await expect(failing).rejects.toThrow("disk full");
		const afterFailure = (await t.call("GET", "/v1/events?type=factor.exported&limit=100")).json.events as unknown[];
		expect(afterFailure.length).toBe(after.length + 3);
	});

	it("only the listed users; an unknown listed user is counted, not written", async () => {
		const { text, result } = await exportToString(t, ctx, { format: "otpauth", userIds: ["bob", "nobody", "bob"] });
		expect(result).toMatchObject({ users: 1, factors: 1, listed_users_not_found: 1 });
		const lines = text.split("\n").filter((line) => line.startsWith("otpauth://"));
		expect(lines).toHaveLength(1);
		expect(lines[0]).toMatch(/^otpauth:\/\/hotp\/acme:bob\?.*counter=7$/);
	});

	it("attack: a default-scope key cannot export (an export is every user's second factor)", async () => {
		const tenant = await t.app.services.deps.store.tenants.find(t.tenantId);
		const user = tenantContext(tenant!, { id: "key_default", scope: "default" });
		let written = "";
		const attempt = runExport(t.app.services.deps, user, { format: "otpauth" }, async (chunk) => {
			written += chunk;
		});
		await expect(attempt).rejects.toBeInstanceOf(ServiceError);
		await expect(attempt).rejects.toMatchObject({ code: "forbidden" });
		expect(written).toBe("");
	});

	it.each(["pskc", "otpauth"] as const)("round trip (%s): imported into a fresh Twofold on a fresh database, oathtool codes of the original secrets verify there, once", async (format) => {
		const { text } = await exportToString(t, ctx, format === "pskc" ? { format, passphrase: PASSPHRASE } : { format });
		const fresh = await buildTestApp({ dialect });
		try {
			const report = await runImport(fresh.app.services.deps, await adminContext(fresh), bytesOf(text), {
				format: "auto",
				dryRun: false,
				...(format === "pskc" ? { passphrase: PASSPHRASE } : { userFrom: "label" as const }),
			});
			expect(report).toMatchObject({ status: "completed", counts: { users_created: 3, factors_created: 3, invalid: 0, skipped: 0 } });
			const verify = (user: string, code: string) => fresh.call("POST", `/v1/users/${user}/verify`, { code });
			nextStep(fresh.clock, 60);
			const unix = Math.floor(fresh.clock().getTime() / 1000);
			const annCode = oathTOTP(secrets.ann!, unix);
			expect((await verify("ann", annCode)).status).toBe(200);
			expect((await verify("ann", annCode)).json.error.code).toBe("invalid_code");
			expect((await verify("cid", oathTOTP(secrets.cid!, unix, { digits: 8, period: 60, algorithm: "SHA256" }))).status).toBe(200);
			// HOTP: the counter came across as the next one (7): the used 6 is refused, 7 verifies once.
			expect((await verify("bob", oathHOTP(secrets.bob!, 6))).status).toBe(422);
			const bobCode = oathHOTP(secrets.bob!, 7);
			expect((await verify("bob", bobCode)).status).toBe(200);
			expect((await verify("bob", bobCode)).status).toBe(422);
			// Not exported, so not there.
			expect((await fresh.call("GET", "/v1/users/eve")).status).toBe(404);
			expect((await fresh.call("GET", "/v1/users/dee")).status).toBe(404);
			// Running the same file again creates nothing (the factor ids are the PSKC serials; otpauth: a keyed ref).
			const again = await runImport(fresh.app.services.deps, await adminContext(fresh), bytesOf(text), {
				format: "auto",
				dryRun: false,
				...(format === "pskc" ? { passphrase: PASSPHRASE } : { userFrom: "label" as const }),
			});
			expect(again.counts.factors_created).toBe(0);
		} finally {
			await fresh.close();
		}
	});

	it(`pages of ${PAGE_USERS} users: 1,203 users are each written and audited exactly once, each page written before the next is read`, async () => {
		const { tenant, apiKey } = await t.app.services.tenants.create("bulk");
		void apiKey;
		const bulk = await adminContext(t, tenant.id);
		async function* items(): AsyncGenerator<ImportItem> {
			for (let i = 0; i < 1203; i++) {
				yield { kind: "record", record: { location: `line ${i + 1}`, userId: `user-${String(i).padStart(5, "0")}`, type: "totp", secret: randomBytes(20), algorithm: "SHA1", digits: 6, period: 30 } };
			}
		}
		const imported = await importItems(t.app.services.deps, bulk, items(), { format: "otpauth", dryRun: false });
		expect(imported.counts.factors_created).toBe(1203);
		// Written as it goes: one chunk per page of users (3 pages), each handed out before the next page is read.
		const chunks: string[] = [];
		let readsBeforeFirstWrite: number | undefined;
		let reads = 0;
		const store = t.app.services.deps.store;
		// The real store, its page reads counted (a spy on the real call, not a stand-in).
		const factors = { ...store.factors, activeForExport: (...args: Parameters<typeof store.factors.activeForExport>) => (reads++, store.factors.activeForExport(...args)) };
		const counted = { ...t.app.services.deps, store: Object.defineProperty(Object.create(store) as typeof store, "factors", { value: factors }) };
		const result = await runExport(counted, bulk, { format: "otpauth" }, async (chunk) => {
			if (chunk.startsWith("otpauth://") && readsBeforeFirstWrite === undefined) readsBeforeFirstWrite = reads;
			chunks.push(chunk);
		});
		const text = chunks.join("");
		expect(chunks.filter((chunk) => chunk.startsWith("otpauth://"))).toHaveLength(Math.ceil(1203 / PAGE_USERS));
		expect(readsBeforeFirstWrite).toBe(1);
		expect(result).toMatchObject({ users: 1203, factors: 1203 });
		const users = text
			.split("\n")
			.filter((line) => line.startsWith("otpauth://"))
			.map((line) => decodeURIComponent(new URL(line).pathname.split(":")[1]!));
		expect(new Set(users).size).toBe(1203);
		const audited = await t.app.services.deps.store.events.list(tenant.id, { type: "factor.exported", limit: 2000 });
		expect(audited).toHaveLength(1203);
		expect(new Set(audited.map((event) => event.user_id)).size).toBe(1203);
	});
});
