// The proxy behind BENCH_PG_LATENCY_MS (bench/latency-proxy.mjs): it must pass PostgreSQL's bytes through
// untouched and in order, and a round trip over it must take at least the delay it was given (a lower bound only:
// how much longer depends on the machine's timers and load, which is the bench's to measure, not a test's).
import { randomBytes } from "node:crypto";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs bench module without type declarations
import { startLatencyProxy } from "./latency-proxy.mjs";

interface Proxy {
	port: number;
	close(): Promise<void>;
}
const start = startLatencyProxy as (options: { targetHost: string; targetPort: number; delayMs: number }) => Promise<Proxy>;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
	for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A loopback echo server behind a proxy with the given delay; resolves to a connected client socket. */
async function echoThroughProxy(delayMs: number): Promise<Socket> {
	const echo: Server = createServer((socket) => socket.pipe(socket));
	await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
	cleanup.push(() => new Promise((resolve) => echo.close(() => resolve())));
	const proxy = await start({ targetHost: "127.0.0.1", targetPort: (echo.address() as { port: number }).port, delayMs });
	cleanup.push(() => proxy.close());
	const client = createConnection({ host: "127.0.0.1", port: proxy.port });
	await new Promise<void>((resolve) => client.once("connect", resolve));
	cleanup.push(async () => void client.destroy());
	return client;
}

function receive(socket: Socket, length: number): Promise<Buffer> {
	return new Promise((resolve) => {
		const chunks: Buffer[] = [];
		let received = 0;
		const onData = (chunk: Buffer): void => {
			chunks.push(chunk);
			received += chunk.length;
			if (received >= length) {
				socket.off("data", onData);
				resolve(Buffer.concat(chunks));
			}
		};
		socket.on("data", onData);
	});
}

describe("latency proxy", () => {
	it("delivers every byte unchanged and in order, however the writes are cut", async () => {
		const client = await echoThroughProxy(2);
		// Writes of every size from 1 byte to 64 KiB, sent back to back, so chunks queue behind each other.
		const writes = Array.from({ length: 200 }, (_, k) => randomBytes(1 + ((k * 7919) % 65_536)));
		const sent = Buffer.concat(writes);
		const echoed = receive(client, sent.length);
		for (const write of writes) client.write(write);
		expect((await echoed).equals(sent)).toBe(true);
	});

	it("a round trip over it takes at least the delay", async () => {
		const delayMs = 5;
		const client = await echoThroughProxy(delayMs);
		const times: number[] = [];
		for (let i = 0; i < 20; i++) {
			const started = performance.now();
			const echoed = receive(client, 1);
			client.write(Buffer.from([i]));
			expect((await echoed)[0]).toBe(i);
			times.push(performance.now() - started);
		}
		expect(Math.min(...times)).toBeGreaterThanOrEqual(delayMs);
	});

	it("refuses a delay that is not a whole number of milliseconds of at least 1", () => {
		expect(() => start({ targetHost: "127.0.0.1", targetPort: 1, delayMs: 0.5 })).toThrow(TypeError);
		expect(() => start({ targetHost: "127.0.0.1", targetPort: 1, delayMs: 0 })).toThrow(TypeError);
	});
});
