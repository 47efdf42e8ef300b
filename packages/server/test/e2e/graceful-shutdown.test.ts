import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { codeFor, createPostgresSchema, DIALECTS } from "../helpers.js";
import { cli, type ServerProcess, startServer } from "./process.js";

const USERS = 40;
/** Verifies whose request the server has begun (headers read) but whose body arrives only after SIGTERM. */
const HELD = 5;

/**
 * Graceful shutdown (issue 6): on SIGTERM the server stops accepting, answers
 * what it has accepted, commits, closes and exits 0. Every verify that was
 * answered 200 is in the database after the restart, and none that was not.
 */
describe.each(DIALECTS)("graceful shutdown (%s)", (dialect) => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-shutdown-"));
	let schema: Awaited<ReturnType<typeof createPostgresSchema>> | undefined;
	afterAll(async () => {
		await schema?.drop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	it(`SIGTERM with ${USERS} verifies in flight: each answered 200 was committed, the process exits 0`, async () => {
		schema = dialect === "postgres" ? await createPostgresSchema() : undefined;
		const env = {
			TWOFOLD_DATA_DIR: dataDir,
			TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64"),
			TWOFOLD_LOG_LEVEL: "info",
			...(schema === undefined ? {} : { TWOFOLD_DATABASE_URL: schema.url }),
		};
		// An installation is set up by migrate (or serve); the other commands refuse an empty data dir (issue 13).
		expect((await cli(["migrate"], env)).code).toBe(0);
		const key = (JSON.parse((await cli(["tenants", "create", "--name", "Shutdown", "--json"], env)).stdout) as { api_key: string }).api_key;
		let server: ServerProcess = await startServer(env);
		try {
			const call = async (method: string, path: string, body?: unknown) => {
				const response = await fetch(`${server.url}${path}`, {
					method,
					headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
					...(body === undefined ? {} : { body: JSON.stringify(body) }),
				});
				return { status: response.status, json: (await response.json().catch(() => undefined)) as any };
			};
			const secrets: string[] = [];
			for (let i = 0; i < USERS; i++) {
				const enrolled = await call("POST", `/v1/users/s-${i}/factors`, { type: "totp" });
				expect((await call("POST", `/v1/users/s-${i}/factors/${enrolled.json.factor.id}/confirm`, { code: codeFor(enrolled.json.totp.secret, Date.now()) })).status).toBe(200);
				secrets.push(enrolled.json.totp.secret);
			}

			// Requests the server has certainly accepted before SIGTERM: headers sent (logged as an incoming
			// request), body held back until after the signal. A graceful server answers each of them; one
			// that exits at once (process.exit on SIGTERM) resets them, and this test fails.
			const held = secrets.slice(0, HELD).map((secret, i) => holdVerify(server.url, key, `s-${i}`, codeFor(secret, Date.now() + 30_000)));
			const incoming = () => server.output().split("\n").filter((line) => line.includes("incoming request") && /\/v1\/users\/s-\d+\/verify/.test(line)).length;
			for (const deadline = Date.now() + 10_000; incoming() < HELD; ) {
				if (Date.now() > deadline) throw new Error(`the held requests did not reach the server:\n${server.output()}`);
				await new Promise((resolve) => setTimeout(resolve, 20));
			}

			const inFlight = secrets.slice(HELD).map((secret, j) => [secret, j + HELD] as const).map(([secret, i]) =>
				call("POST", `/v1/users/s-${i}/verify`, { code: codeFor(secret, Date.now() + 30_000) }).then(
					(result) => ({ user: `s-${i}`, status: result.status }),
					(error: Error) => ({ user: `s-${i}`, status: 0, error: error.message }),
				),
			);
			// The first answer is out: the server is in the middle of the others.
			await Promise.race(inFlight);
			const exit = server.stop("SIGTERM");
			let exited = false;
			void exit.then(() => (exited = true));
			// Until shutdown has begun (or the process is gone: then the held requests show what was lost).
			for (const deadline = Date.now() + 10_000; !server.output().includes("shutting down") && !exited; ) {
				if (Date.now() > deadline) throw new Error(`no shutdown began:\n${server.output()}`);
				await new Promise((resolve) => setTimeout(resolve, 10));
			}
			// Shutdown has begun; now the held bodies arrive. Each must be answered 200, and committed.
			const heldResults = await Promise.all(held.map((h) => h.finish()));
			expect(heldResults, JSON.stringify(heldResults)).toEqual(secrets.slice(0, HELD).map((_, i) => ({ user: `s-${i}`, status: 200 })));
			const results = await Promise.all(inFlight);
			expect(await exit).toBe(0);

			// Answered or refused at the door, never a half answer: 200, or 503 while closing, or no connection.
			for (const result of results) expect([0, 200, 503], JSON.stringify(result)).toContain(result.status);
			const answered = [...heldResults, ...results].filter((r) => r.status === 200).map((r) => r.user);
			expect(answered.length).toBeGreaterThanOrEqual(HELD);

			server = await startServer(env);
			const succeeded = (await call("GET", "/v1/events?type=verification.succeeded&limit=100")).json.events.map((e: { user_id: string }) => e.user_id);
			// Every acknowledged verify is there (nothing lost) and nothing else is (nothing half-done).
			expect(succeeded.sort()).toEqual(answered.sort());
		} finally {
			// A server that failed to stop must not outlive the test.
			await server.stop("SIGKILL");
		}
	}, 60_000);
});

/**
 * Starts POST /v1/users/<user>/verify on its own connection with the headers and the first half of
 * the body; finish() sends the rest and resolves with the status (0 when the connection was cut).
 */
function holdVerify(base: string, key: string, user: string, code: string): { finish(): Promise<{ user: string; status: number; error?: string }> } {
	const body = JSON.stringify({ code });
	const half = Math.floor(body.length / 2);
	const url = new URL(`/v1/users/${user}/verify`, base);
	let result: Promise<{ user: string; status: number; error?: string }>;
	const req = httpRequest(url, { method: "POST", agent: false, headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) } });
	result = new Promise((resolve) => {
		req.on("response", (response) => {
			response.resume();
			response.on("end", () => resolve({ user, status: response.statusCode ?? 0 }));
		});
		req.on("error", (error) => resolve({ user, status: 0, error: error.message }));
	});
	req.flushHeaders();
	req.write(body.slice(0, half));
	return {
		finish() {
			req.end(body.slice(half));
			return result;
		},
	};
}
