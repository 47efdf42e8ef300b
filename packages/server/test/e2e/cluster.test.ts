import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeFor, createPostgresSchema, POSTGRES_AVAILABLE } from "../helpers.js";
import { cli, type ServerProcess, startServer } from "./process.js";

const ROUNDS = 100;
const CONCURRENCY = 50;

/**
 * Three `twofold serve` processes on one PostgreSQL database behave as one
 * service (issue 6, V-3): 50 concurrent submissions of one valid code, spread
 * over the nodes, give exactly one success, round after round; the same for a
 * recovery code; and concurrent failures never push the count past the lock.
 */
describe.skipIf(!POSTGRES_AVAILABLE)("three nodes starting at once on an empty PostgreSQL database", () => {
	it("migrate once and create exactly one first tenant, whose key exactly one node prints", async () => {
		const schema = await createPostgresSchema();
		const dataDir = mkdtempSync(join(tmpdir(), "twofold-first-"));
		const env = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_DATABASE_URL: schema.url, TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64"), TWOFOLD_LOG_LEVEL: "warn" };
		try {
			const nodes = await Promise.all([startServer(env), startServer(env), startServer(env)]);
			await Promise.all(nodes.map((node) => node.stop()));
			expect(nodes.filter((node) => node.output().includes("created a first tenant"))).toHaveLength(1);
			const listed = (JSON.parse((await cli(["tenants", "list", "--json"], env)).stdout) as { tenants: unknown[] }).tenants;
			expect(listed).toHaveLength(1);
		} finally {
			await schema.drop();
			rmSync(dataDir, { recursive: true, force: true });
		}
	});
});

describe.skipIf(!POSTGRES_AVAILABLE)("three nodes on PostgreSQL", () => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-cluster-"));
	let schema: Awaited<ReturnType<typeof createPostgresSchema>>;
	let env: Record<string, string>;
	const nodes: ServerProcess[] = [];
	let key: string;

	const call = async (node: number, method: string, path: string, body?: unknown) => {
		const response = await fetch(`${nodes[node % nodes.length]!.url}${path}`, {
			method,
			headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		return { status: response.status, json: (await response.json().catch(() => undefined)) as any };
	};

	beforeAll(async () => {
		schema = await createPostgresSchema();
		env = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_DATABASE_URL: schema.url, TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64"), TWOFOLD_LOG_LEVEL: "warn" };
		// The first node migrates; the others find the schema ready.
		nodes.push(await startServer(env));
		nodes.push(...(await Promise.all([startServer(env), startServer(env)])));
		key = (JSON.parse((await cli(["tenants", "create", "--name", "Cluster", "--json"], env)).stdout) as { api_key: string }).api_key;
	});
	afterAll(async () => {
		await Promise.all(nodes.map((node) => node.stop()));
		await schema?.drop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	/** Enrolls a user on one node and confirms on another: each node sees the others' commits at once. */
	async function enrolled(user: string) {
		const enrolled = await call(0, "POST", `/v1/users/${user}/factors`, { type: "totp" });
		const secret: string = enrolled.json.totp.secret;
		// Confirmed with the current step's code; the races use the next step's, inside the ±1 window and never
		// behind the confirm, however long a loaded machine takes (no step boundary can make either stale).
		const confirmed = await call(1, "POST", `/v1/users/${user}/factors/${enrolled.json.factor.id}/confirm`, { code: codeFor(secret, Date.now()) });
		expect(confirmed.status).toBe(200);
		return { secret, recoveryCodes: confirmed.json.recovery_codes as string[] };
	}

	it(`one valid TOTP code, ${CONCURRENCY} at once across the nodes: exactly one success, ${ROUNDS} times`, async () => {
		const users = await Promise.all(Array.from({ length: ROUNDS }, (_, i) => enrolled(`race-${i}`)));
		for (const [i, { secret }] of users.entries()) {
			const code = codeFor(secret, Date.now() + 30_000);
			const results = await Promise.all(Array.from({ length: CONCURRENCY }, (_, n) => call(n, "POST", `/v1/users/race-${i}/verify`, { code })));
			const ok = results.filter((r) => r.status === 200);
			expect(ok, `round ${i}`).toHaveLength(1);
			expect(results.filter((r) => r.status >= 500), `round ${i}`).toHaveLength(0);
		}
	});

	it("one recovery code, 50 at once across the nodes: exactly one success, 20 times", async () => {
		// A fresh user each round: the losers' replays count as failures (R-OTP-9) and throttle the user.
		const users = await Promise.all(Array.from({ length: 20 }, (_, i) => enrolled(`race-recovery-${i}`)));
		for (const [i, { recoveryCodes }] of users.entries()) {
			const results = await Promise.all(Array.from({ length: CONCURRENCY }, (_, n) => call(n, "POST", `/v1/users/race-recovery-${i}/verify`, { code: recoveryCodes[0] })));
			expect(results.filter((r) => r.status === 200), `round ${i}`).toHaveLength(1);
			expect(results.filter((r) => r.status >= 500), `round ${i}`).toHaveLength(0);
		}
	});

	it("concurrent failures across the nodes stop exactly at the lock (V-3, R-OTP-6)", async () => {
		expect((await call(2, "PATCH", "/v1/tenant", { attempts: { lock_after: 10, throttle_after: 10 } })).status).toBe(200);
		const { secret } = await enrolled("race-lock");
		const results = await Promise.all(Array.from({ length: CONCURRENCY }, (_, n) => call(n, "POST", "/v1/users/race-lock/verify", { code: "000000" })));
		expect(results.filter((r) => r.status === 422)).toHaveLength(10);
		expect(results.filter((r) => r.status === 423)).toHaveLength(CONCURRENCY - 10);
		const failed = (await call(0, "GET", "/v1/events?user_id=race-lock&type=verification.failed&limit=100")).json.events;
		expect(failed.map((e: { data: { failed_attempts: number } }) => e.data.failed_attempts).sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
		// Locked everywhere: the right code is refused on every node.
		for (let node = 0; node < 3; node++) expect((await call(node, "POST", "/v1/users/race-lock/verify", { code: codeFor(secret, Date.now()) })).status).toBe(423);
	});
});
