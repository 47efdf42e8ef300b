import { join } from "node:path";
import { Writable } from "node:stream";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAST_USED_RESOLUTION_MS } from "../../src/services/api-keys.js";
import { buildTestApp, DIALECTS, type TestApp } from "../helpers.js";

/**
 * An API key's last use (issue 13, `twofold keys list`) is recorded on authentication, at most once a minute per
 * key: authentication stays a read on nearly every request.
 */
describe.each(DIALECTS)("API key last use (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	const lastUsed = async (keyId: string) => (await t.app.services.apiKeys.list(t.tenantId))!.find((key) => key.key_id === keyId)!.last_used_at;

	it("is null until the key authenticates, then moves at most once per minute", async () => {
		const key = await t.app.services.apiKeys.create(t.tenantId, "default");
		expect(await lastUsed(key.id)).toBeNull();

		// A wrong secret for the key's id is no use of it.
		const wrong = `${key.token.slice(0, -1)}${key.token.endsWith("0") ? "1" : "0"}`;
		expect((await t.call("GET", "/v1/tenant", undefined, wrong)).status).toBe(401);
		expect(await lastUsed(key.id)).toBeNull();

		const t0 = t.clock().getTime();
		expect((await t.call("GET", "/v1/tenant", undefined, key.token)).status).toBe(200);
		expect(await lastUsed(key.id)).toBe(new Date(t0).toISOString());

		// Within the minute: requests, some at once, write nothing.
		t.clock.advance(LAST_USED_RESOLUTION_MS - 1);
		const statuses = await Promise.all(Array.from({ length: 5 }, () => t.call("GET", "/v1/tenant", undefined, key.token)));
		expect(statuses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
		expect(await lastUsed(key.id)).toBe(new Date(t0).toISOString());

		// A minute after the recorded use: recorded again, once, however many requests race.
		t.clock.advance(1);
		const t1 = t.clock().getTime();
		await Promise.all(Array.from({ length: 5 }, () => t.call("GET", "/v1/tenant", undefined, key.token)));
		expect(await lastUsed(key.id)).toBe(new Date(t1).toISOString());
	});

	/**
	 * Authenticates while another connection holds the key's write lock. Any UPDATE, even one that would change no
	 * row, would wait for the lock: PostgreSQL waits (the race shows it); better-sqlite3 blocks the event loop for
	 * busy_timeout and then fails, which the race cannot see but `onUseNotRecorded` hears. Returns what it heard.
	 */
	async function authenticateUnderLock(token: string, keyId: string): Promise<unknown[]> {
		const unrecorded: unknown[] = [];
		const release = await holdWriteLock(dialect, t, keyId);
		let pending: Promise<unknown> | undefined;
		try {
			pending = t.app.services.apiKeys.authenticate(token, (error) => unrecorded.push(error));
			const answer = await Promise.race([pending, new Promise((resolve) => setTimeout(() => resolve("still waiting after 3 s"), 3000))]);
			expect((answer as { keyId?: string } | string | null) ?? "refused").toMatchObject({ keyId });
		} finally {
			await release();
			await pending;
		}
		return unrecorded;
	}

	it("within the minute, authentication does not touch the row: it answers while another connection holds the row's write lock", async () => {
		const key = await t.app.services.apiKeys.create(t.tenantId, "default");
		expect((await t.call("GET", "/v1/tenant", undefined, key.token)).status).toBe(200); // recorded now
		t.clock.advance(LAST_USED_RESOLUTION_MS / 2);
		const release = await holdWriteLock(dialect, t, key.id);
		let pending: Promise<unknown> | undefined;
		try {
			// Any UPDATE, even one that would change no row, would wait for the lock (SQLite: busy_timeout, then fail).
			pending = t.call("GET", "/v1/tenant", undefined, key.token);
			const answer = await Promise.race([pending, new Promise((resolve) => setTimeout(() => resolve("still waiting after 3 s"), 3000))]);
			expect((answer as { status?: number }).status ?? answer).toBe(200);
		} finally {
			await release();
			await pending;
		}
		expect(await authenticateUnderLock(key.token, key.id)).toEqual([]);
	});

	it("a use another node recorded within the minute is fresh here too: no write, although this node never recorded the key", async () => {
		const key = await t.app.services.apiKeys.create(t.tenantId, "default");
		// Written straight to the store, as another node's authentication would: this process has no record of it.
		expect(await t.app.store.apiKeys.recordUse(key.id, t.clock().getTime(), t.clock().getTime() - LAST_USED_RESOLUTION_MS)).toBe(true);
		t.clock.advance(LAST_USED_RESOLUTION_MS / 2);
		expect(await authenticateUnderLock(key.token, key.id)).toEqual([]);
	});

	it("records the conditional write once among racing writers (store)", async () => {
		const key = await t.app.services.apiKeys.create(t.tenantId, "default");
		const store = t.app.store;
		expect(await store.apiKeys.recordUse(key.id, 100_000, 40_000)).toBe(true);
		expect(await store.apiKeys.recordUse(key.id, 130_000, 70_000)).toBe(false); // 100 000 is after 70 000: fresh
		const racing = await Promise.all([store.apiKeys.recordUse(key.id, 160_000, 100_000), store.apiKeys.recordUse(key.id, 160_000, 100_000)]);
		expect(racing.filter(Boolean)).toHaveLength(1);
		expect((await store.apiKeys.findActive(key.id))!.key.last_used_at).toBe(160_000);
	});
});

/** SQLite only: there a blocked UPDATE fails after busy_timeout (5 s); PostgreSQL would wait for the row lock. */
describe("API key last use when the write fails (sqlite)", () => {
	let t: TestApp;
	const lines: string[] = [];
	beforeAll(async () => {
		const stream = new Writable({
			write(chunk, _encoding, done) {
				lines.push(...String(chunk).split("\n").filter((line) => line !== ""));
				done();
			},
		});
		t = await buildTestApp({ dialect: "sqlite", logger: { level: "warn", stream } });
	});
	afterAll(() => t.close());
	const lastUsed = async (keyId: string) => (await t.app.services.apiKeys.list(t.tenantId))!.find((key) => key.key_id === keyId)!.last_used_at;

	it("a last use that cannot be recorded does not fail the request (the write lock held past busy_timeout)", async () => {
		const key = await t.app.services.apiKeys.create(t.tenantId, "default");
		expect((await t.call("GET", "/v1/tenant", undefined, key.token)).status).toBe(200);
		t.clock.advance(LAST_USED_RESOLUTION_MS);
		const recorded = await lastUsed(key.id);
		const release = await holdWriteLock("sqlite", t, key.id);
		try {
			expect((await t.call("GET", "/v1/tenant", undefined, key.token)).status).toBe(200);
		} finally {
			await release();
		}
		expect(await lastUsed(key.id)).toBe(recorded);
		// The operator hears why, from the error's message only: a driver's error object may carry more.
		const warnings = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === "could not record the API key's last use; the request goes on");
		expect(warnings).toHaveLength(1);
		expect(warnings[0]!.reason).toMatch(/database is locked/);
		expect(lines.join("\n")).not.toContain(key.token.slice(key.token.lastIndexOf("_") + 1));
		// Without a listener the failure is still no failure of the authentication.
		const release2 = await holdWriteLock("sqlite", t, key.id);
		try {
			t.clock.advance(LAST_USED_RESOLUTION_MS);
			expect(await t.app.services.apiKeys.authenticate(key.token)).toMatchObject({ keyId: key.id, tenantId: t.tenantId });
		} finally {
			await release2();
		}
		// Not remembered as recorded: the next request writes it.
		expect((await t.call("GET", "/v1/tenant", undefined, key.token)).status).toBe(200);
		expect(await lastUsed(key.id)).toBe(t.clock().toISOString());
	});
});

/** Another connection, as another process would: SQLite's database write lock, or PostgreSQL's lock on the key's row. */
async function holdWriteLock(dialect: string, t: TestApp, keyId: string): Promise<() => Promise<void>> {
	if (dialect === "sqlite") {
		const other = new BetterSqlite3(join(t.dataDir, "twofold.db"));
		other.exec("begin immediate");
		return async () => {
			other.exec("rollback");
			other.close();
		};
	}
	const client = new pg.Client({ connectionString: t.app.config.databaseURL });
	await client.connect();
	await client.query("begin");
	expect((await client.query("select id from api_keys where id = $1 for update", [keyId])).rowCount).toBe(1);
	return async () => {
		await client.query("rollback");
		await client.end();
	};
}
