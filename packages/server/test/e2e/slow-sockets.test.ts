import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ServerProcess, startServer } from "./process.js";

const HEADERS_TIMEOUT_MS = 2000;
const REQUEST_TIMEOUT_MS = 4000;
/** Node checks the timeouts every min(1 s, a quarter of the shortest), so a slow client can outlive its bound by that much. */
const CHECK_INTERVAL_MS = 500;
/** Room for a loaded machine (six test runs share two cores). */
const SLACK_MS = 2500;
/** A small instance: the review's had 1,024 descriptors, this one 256, so the default cap is 256 - 128 = 128. */
const OPEN_FILES = 256;
const DEFAULT_CAP = 128;

interface Slow {
	kind: "unauthenticated body" | "authenticated body" | "headers" | "silent";
	openedAt: number;
	closedAt?: number;
	received: string;
}

/** A client that sends its request a byte at a time and never finishes (issue 12 finding 4). */
function slowClient(port: number, kind: Slow["kind"], key: string): Slow {
	const slow: Slow = { kind, openedAt: performance.now(), received: "" };
	const socket: Socket = connect(port, "127.0.0.1");
	let drip: NodeJS.Timeout | undefined;
	socket.on("data", (chunk) => (slow.received += chunk.toString("latin1")));
	socket.on("error", () => undefined);
	socket.on("close", () => {
		clearInterval(drip);
		slow.closedAt ??= performance.now();
	});
	socket.on("connect", () => {
		const head = (auth: string) =>
			`POST /v1/users/slow/verify HTTP/1.1\r\nHost: twofold\r\n${auth}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`;
		let pending = "";
		if (kind === "unauthenticated body") socket.write(head(""));
		if (kind === "authenticated body") socket.write(head(`Authorization: Bearer ${key}\r\n`));
		if (kind === "headers") pending = "GET /healthz HTTP/1.1\r\nHost: twofold\r\nX-Padding: " + "a".repeat(1000);
		if (kind === "silent") return;
		// One byte every 400 ms: each byte resets any inactivity timer, so only a deadline for the whole phase stops it.
		drip = setInterval(() => {
			if (socket.destroyed) return;
			socket.write(pending.length > 0 ? pending[0]! : " ");
			pending = pending.slice(1);
		}, 400);
	});
	return slow;
}

/** GET /healthz on a connection of its own (no keep-alive pool), as a load balancer's probe. */
function probe(port: number): Promise<{ status: number; ms: number }> {
	const started = performance.now();
	return new Promise((resolve) => {
		const req = httpRequest({ host: "127.0.0.1", port, path: "/healthz", agent: false, timeout: 3000 }, (res) => {
			res.resume();
			res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
		});
		req.on("timeout", () => req.destroy(new Error("timeout")));
		req.on("error", () => resolve({ status: 0, ms: performance.now() - started }));
		req.end();
	});
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("slow clients cannot hold the server's sockets (issue 12 finding 4)", () => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-slow-"));
	let server: ServerProcess | undefined;
	afterAll(async () => {
		await server?.stop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	it(
		"300 slow sockets on a 256-descriptor process: /healthz keeps answering, each slow socket is closed within its bound, the cap is logged",
		async () => {
			server = await startServer(
				{
					TWOFOLD_DATA_DIR: dataDir,
					TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64"),
					TWOFOLD_LOG_LEVEL: "warn",
					TWOFOLD_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
					TWOFOLD_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
				},
				{ openFiles: OPEN_FILES },
			);
			const port = Number(new URL(server.url).port);
			const key = /^\s+(tfk_\S+)$/m.exec(server.output())![1]!;
			expect((await probe(port)).status).toBe(200);

			const kinds: Slow["kind"][] = ["unauthenticated body", "authenticated body", "headers", "silent"];
			const slow: Slow[] = [];
			const probes: Promise<{ status: number; ms: number }>[] = [];
			// 300 slow clients, more than the cap, in waves, with a health probe after each wave and while they drip.
			for (let wave = 0; wave < 6; wave++) {
				for (let i = 0; i < 50; i++) slow.push(slowClient(port, kinds[(wave * 50 + i) % 4]!, key));
				await sleep(150);
				probes.push(probe(port));
			}
			const lastOpened = performance.now();
			while (performance.now() - lastOpened < REQUEST_TIMEOUT_MS + CHECK_INTERVAL_MS + SLACK_MS && slow.some((s) => s.closedAt === undefined)) {
				probes.push(probe(port));
				await sleep(250);
			}

			const answered = await Promise.all(probes);
			expect(answered.filter((p) => p.status !== 200), JSON.stringify(answered)).toEqual([]);

			const open = slow.filter((s) => s.closedAt === undefined);
			expect(open.length, `${open.length} of ${slow.length} slow sockets still open`).toBe(0);
			for (const s of slow) {
				const lifetime = s.closedAt! - s.openedAt;
				const bound = (s.kind === "headers" || s.kind === "silent" ? HEADERS_TIMEOUT_MS : REQUEST_TIMEOUT_MS) + CHECK_INTERVAL_MS + SLACK_MS;
				expect(lifetime, `${s.kind} socket lived ${Math.round(lifetime)} ms`).toBeLessThan(bound);
				// Whatever was written to a closed slow client is a catalog answer that closes the connection.
				if (s.received !== "") expect(s.received.toLowerCase()).toContain("connection: close");
				if (s.received !== "") expect(s.received).not.toContain("FST_ERR");
			}
			// The 401 before the body is read says Connection: close, so the rest of the body is never waited for.
			const refused = slow.filter((s) => s.kind === "unauthenticated body" && s.received.startsWith("HTTP/1.1 401"));
			expect(refused.length).toBeGreaterThan(0);
			for (const s of refused) expect(s.closedAt! - s.openedAt).toBeLessThan(1000 + SLACK_MS);
			// Timed out before the headers or body arrived: a catalog 408.
			expect(slow.some((s) => s.received.startsWith("HTTP/1.1 408") && s.received.includes('"code":"request_timeout"'))).toBe(true);

			expect(server.output()).toContain(`connection cap reached (TWOFOLD_MAX_CONNECTIONS=${DEFAULT_CAP})`);
			// And the service still works for a normal client.
			const tenant = await fetch(`${server.url}/v1/tenant`, { headers: { authorization: `Bearer ${key}` } });
			expect(tenant.status).toBe(200);
		},
		60_000,
	);
});
