import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pg from "pg";
import { createApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { decodeBase32 } from "../src/core/base32.js";
import { generateTOTP } from "../src/core/totp.js";

/**
 * Any non-empty CI (true, 1, yes, a CI system's name…) means every suite must run: a missing tool,
 * library or service is a failure, not a skip, and vitest.summary-reporter.ts fails a run that
 * skipped anything. CI=1 once silently dropped PostgreSQL (issue 20).
 */
export const IN_CI = isCI(process.env.CI);

export function isCI(value: string | undefined): boolean {
	return value !== undefined && value.trim() !== "";
}

export const PG_URL = process.env.TWOFOLD_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

async function probePostgres(): Promise<boolean> {
	const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
	try {
		await client.connect();
		await client.query("select 1");
		return true;
	} catch (error) {
		if (IN_CI) throw new Error(`PostgreSQL is required under CI (CI=${process.env.CI}) but ${PG_URL} did not answer: ${(error as Error).message}`);
		return false;
	} finally {
		await client.end().catch(() => undefined);
	}
}

export const POSTGRES_AVAILABLE = await probePostgres();
if (!POSTGRES_AVAILABLE) {
	console.warn(`[skip] PostgreSQL suites skipped: nothing answered at ${PG_URL} (set TWOFOLD_TEST_DATABASE_URL, or run with CI=true to require it)`);
}

export type DialectName = "sqlite" | "postgres";
/** The dialect loop every contract and HTTP suite runs over (Kysely's pattern). */
export const DIALECTS: DialectName[] = POSTGRES_AVAILABLE ? ["sqlite", "postgres"] : ["sqlite"];

/** A schema of its own per test app, so files can run in parallel on one database. */
export async function createPostgresSchema(): Promise<{ url: string; drop(): Promise<void> }> {
	const schema = `t_${randomBytes(6).toString("hex")}`;
	const client = new pg.Client({ connectionString: PG_URL });
	await client.connect();
	await client.query(`create schema ${schema}`);
	await client.end();
	const url = new URL(PG_URL);
	url.searchParams.set("options", `-c search_path=${schema}`);
	return {
		url: url.toString(),
		async drop() {
			const dropper = new pg.Client({ connectionString: PG_URL });
			await dropper.connect();
			await dropper.query(`drop schema ${schema} cascade`);
			await dropper.end();
		},
	};
}

/** A clock the test moves by hand. Injected through createApp, never through a request (R-OTP-8). */
export interface TestClock {
	(): Date;
	set(time: number | Date): void;
	advance(milliseconds: number): void;
}

export function testClock(start: number | Date = Date.now()): TestClock {
	let now = typeof start === "number" ? start : start.getTime();
	const clock = (() => new Date(now)) as TestClock;
	clock.set = (time) => {
		now = typeof time === "number" ? time : time.getTime();
	};
	clock.advance = (ms) => {
		now += ms;
	};
	return clock;
}

export interface TestApp {
	app: App;
	http: FastifyInstance;
	clock: TestClock;
	dataDir: string;
	adminKey: string;
	tenantId: string;
	/** inject() with this tenant's admin key unless `key` says otherwise. */
	call(method: string, url: string, body?: unknown, key?: string | null): Promise<{ status: number; json: any; headers: Record<string, unknown>; body: string }>;
	close(): Promise<void>;
}

export async function buildTestApp(
	options: { dialect?: DialectName; clock?: TestClock; logger?: object | boolean; env?: Record<string, string> } = {},
): Promise<TestApp> {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-test-"));
	const pgSchema = options.dialect === "postgres" ? await createPostgresSchema() : undefined;
	const config = loadConfig(
		{
			TWOFOLD_DATA_DIR: dataDir,
			TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64"),
			...(pgSchema === undefined ? {} : { TWOFOLD_DATABASE_URL: pgSchema.url }),
			...options.env,
		},
		process.cwd(),
	);
	const clock = options.clock ?? testClock();
	const app = await createApp(config, { clock, logger: options.logger ?? false });
	const http = await app.http();
	const { tenant, apiKey } = await app.services.tenants.create("acme");
	const call: TestApp["call"] = async (method, url, body, key) => {
		const headers: Record<string, string> = {};
		const token = key === undefined ? apiKey : key;
		if (token !== null) headers.authorization = `Bearer ${token}`;
		const response = await http.inject({
			method: method as "GET",
			url,
			headers,
			...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { ...headers, "content-type": "application/json" } }),
		});
		let json: any;
		try {
			json = response.body.length > 0 ? JSON.parse(response.body) : undefined;
		} catch {
			json = undefined;
		}
		return { status: response.statusCode, json, headers: response.headers, body: response.body };
	};
	return {
		app,
		http,
		clock,
		dataDir,
		adminKey: apiKey,
		tenantId: tenant.id,
		call,
		async close() {
			await app.close();
			await pgSchema?.drop();
			rmSync(dataDir, { recursive: true, force: true });
		},
	};
}

/** The code an authenticator app would show for a base32 secret at the clock's time. */
export function codeFor(secret: string, at: Date | number, options: { digits?: number; period?: number; algorithm?: "SHA1" | "SHA256" | "SHA512" } = {}): string {
	return generateTOTP({
		key: decodeBase32(secret)!,
		nowInMilliseconds: typeof at === "number" ? at : at.getTime(),
		periodInSeconds: options.period ?? 30,
		digits: options.digits ?? 6,
		algorithm: options.algorithm ?? "SHA1",
	});
}

/** Enrolls and confirms a TOTP factor; returns its id, secret and the recovery codes (first factor only). */
export async function enrollActive(t: TestApp, userId: string, body: Record<string, unknown> = {}) {
	const enrolled = await t.call("POST", `/v1/users/${encodeURIComponent(userId)}/factors`, { type: "totp", ...body });
	if (enrolled.status !== 201) throw new Error(`enroll failed: ${enrolled.body}`);
	const { id } = enrolled.json.factor;
	const secret: string = enrolled.json.totp.secret;
	const options = { digits: (body.digits as number) ?? 6, period: (body.period as number) ?? 30, algorithm: (body.algorithm as "SHA1") ?? "SHA1" };
	const confirmed = await t.call("POST", `/v1/users/${encodeURIComponent(userId)}/factors/${id}/confirm`, { code: codeFor(secret, t.clock(), options) });
	if (confirmed.status !== 200) throw new Error(`confirm failed: ${confirmed.body}`);
	return { factorId: id as string, secret, recoveryCodes: (confirmed.json.recovery_codes ?? []) as string[] };
}

/** Moves the test clock to the start of the next time step, so a fresh code is due. */
export function nextStep(clock: TestClock, period = 30): void {
	const now = clock().getTime();
	clock.set((Math.floor(now / 1000 / period) + 1) * period * 1000 + 1000);
}

/**
 * At rest, a secret must not be recoverable by decoding what is stored (issue 20): every
 * "."/"$"/":"-separated part of the stored value, and the value itself, decoded as base64url,
 * base64, hex and UTF-8, must neither be nor contain the secret (each given as text or bytes: pass
 * every form the secret takes, e.g. with and without separators). A substring check on the raw row is not enough: base64url of the plain
 * code never contains the code.
 */
export function expectNotDecodable(stored: string, secrets: ReadonlyArray<string | Uint8Array>): void {
	const needles = secrets.map((secret) => (typeof secret === "string" ? Buffer.from(secret, "utf8") : Buffer.from(secret)));
	const parts = [stored, ...stored.split(/[.$:]/)].filter((part) => part.length > 0);
	for (const part of parts) {
		const decodings = [Buffer.from(part, "utf8"), Buffer.from(part, "base64url"), Buffer.from(part, "base64")];
		if (/^(?:[0-9a-f]{2})+$/i.test(part)) decodings.push(Buffer.from(part, "hex"));
		for (const decoded of decodings) {
			for (const needle of needles) {
				if (decoded.indexOf(needle) !== -1) throw new Error(`a stored value decodes to the secret it protects (part ${JSON.stringify(part.slice(0, 12))}…)`);
			}
		}
	}
}
