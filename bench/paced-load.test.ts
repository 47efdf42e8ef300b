// The open-loop load behind the benchmark's half-rate latency figure: it must
// pace (not burst), and count the time a request waits for a busy server.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs bench module without type declarations
import { pacedLoad } from "./paced-load.mjs";

interface PacedResult {
	sent: number;
	completed: number;
	non2xx: number;
	errors: number;
	p50: number;
	p99: number;
}
const paced = pacedLoad as (options: {
	url: string;
	rate: number;
	seconds: number;
	connections: number;
	headers: Record<string, string>;
	next: () => { path: string; body: string };
}) => Promise<PacedResult>;

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A loopback server that answers after delayMs, with the status statusFor gives; records when each request arrived. */
async function listen(delayMs: number, statusFor: (path: string) => number = () => 200): Promise<{ url: string; arrivals: number[]; bodies: string[] }> {
	const arrivals: number[] = [];
	const bodies: string[] = [];
	server = createServer((request, response) => {
		arrivals.push(performance.now());
		let body = "";
		request.on("data", (chunk: Buffer) => (body += chunk.toString()));
		request.on("end", () => {
			bodies.push(body);
			setTimeout(() => {
				response.writeHead(statusFor(request.url ?? ""), { "content-type": "application/json" });
				response.end('{"ok":true}');
			}, delayMs);
		});
	});
	await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
	return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, arrivals, bodies };
}

describe("pacedLoad", () => {
	it("sends requests at even intervals, not each second's quota at once", async () => {
		const { url, arrivals, bodies } = await listen(0);
		let n = 0;
		const result = await paced({ url, rate: 200, seconds: 1, connections: 20, headers: {}, next: () => ({ path: `/r/${n}`, body: `{"n":${n++}}` }) });
		expect(result).toMatchObject({ sent: 200, completed: 200, non2xx: 0, errors: 0 });
		expect(bodies).toContain('{"n":199}');
		// Evenly paced, a fifth of a second holds about 40 requests; a burst would put all 200 in the first.
		// The bounds leave room for a loaded machine's timer lag (catching up sends what is due, never more).
		const first = arrivals[0]!;
		const early = arrivals.filter((t) => t - first < 200).length;
		expect(early).toBeGreaterThan(15);
		expect(early).toBeLessThan(80);
	});

	it("counts the wait for a busy connection in the latency (no coordinated omission)", async () => {
		// One connection, 50 ms a response, 40 requests due within 0.4 s: the last waits behind all the others.
		const { url } = await listen(50);
		const result = await paced({ url, rate: 100, seconds: 0.4, connections: 1, headers: {}, next: () => ({ path: "/", body: "{}" }) });
		expect(result.completed).toBe(40);
		expect(result.p99).toBeGreaterThan(1000);
	});

	it("counts non-2xx answers", async () => {
		const { url } = await listen(0, (path) => (path.endsWith("odd") ? 422 : 200));
		let n = 0;
		const result = await paced({ url, rate: 100, seconds: 0.5, connections: 5, headers: {}, next: () => ({ path: n++ % 2 ? "/odd" : "/even", body: "{}" }) });
		expect(result).toMatchObject({ sent: 50, completed: 50, non2xx: 25 });
	});
});
