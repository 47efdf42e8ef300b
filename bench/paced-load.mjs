// An open-loop load at a fixed rate, for latency below saturation. autocannon's
// rate option sends each second's quota as fast as it can and then waits for the
// next second, so its "half rate" is a full-speed burst for half of every second;
// and it pads each slow response with synthetic samples at 1 ms intervals. Here
// requests are due at even intervals, spread over keep-alive connections, and each
// latency runs from when its request was due, so time spent waiting for a free
// connection counts too (no coordinated omission).
import { connect } from "node:net";

/**
 * url: http://host:port; next(): { path, body } for the next request; headers: extra request headers.
 * Returns { sent, completed, non2xx, errors, achievedRate, p50, p90, p99, max } (latencies in ms).
 */
export async function pacedLoad({ url, rate, seconds, connections, headers, next }) {
	const { hostname, port } = new URL(url);
	const headerText = Object.entries({ ...headers, "content-type": "application/json" })
		.map(([name, value]) => `${name}: ${value}\r\n`)
		.join("");
	const latencies = [];
	let non2xx = 0;
	let errors = 0;
	const idle = [];
	const waiting = [];
	const sockets = await Promise.all(
		Array.from({ length: connections }, () => new Promise((resolve, reject) => {
			const socket = connect({ host: hostname, port: Number(port), noDelay: true }, () => resolve(socket));
			socket.once("error", reject);
		})),
	);
	const send = (socket, request) => {
		socket.current = request;
		const body = Buffer.from(request.body);
		// One write per request: with noDelay, a separate head and body would go out as two segments.
		socket.write(Buffer.concat([Buffer.from(`POST ${request.path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\n${headerText}content-length: ${body.length}\r\n\r\n`), body]));
	};
	const release = (socket) => {
		const request = waiting.shift();
		if (request) send(socket, request);
		else idle.push(socket);
	};
	for (const socket of sockets) {
		let buffer = Buffer.alloc(0);
		socket.on("data", (chunk) => {
			buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
			for (;;) {
				const length = responseLength(buffer);
				if (length === undefined) return;
				const status = Number(buffer.subarray(9, 12).toString("latin1"));
				buffer = buffer.subarray(length);
				if (status < 200 || status > 299) non2xx++;
				if (socket.current === undefined) throw new Error("pacedLoad: a response without a request");
				latencies.push(performance.now() - socket.current.due);
				socket.current = undefined;
				release(socket);
			}
		});
		socket.on("error", () => errors++);
		idle.push(socket);
	}
	const interval = 1000 / rate;
	const start = performance.now();
	const total = Math.round(rate * seconds);
	let sent = 0;
	await new Promise((resolve) => {
		const tick = () => {
			const now = performance.now();
			// Every request due by now goes out; a request's clock starts when it was due.
			while (sent < total && start + sent * interval <= now) {
				const request = { ...next(), due: start + sent * interval };
				sent++;
				const socket = idle.pop();
				if (socket) send(socket, request);
				else waiting.push(request);
			}
			if (sent < total) setTimeout(tick, 1);
			else resolve();
		};
		tick();
	});
	const drainBy = performance.now() + 10_000;
	while (latencies.length + errors < total && performance.now() < drainBy) await new Promise((r) => setTimeout(r, 5));
	const elapsed = (performance.now() - start) / 1000;
	for (const socket of sockets) socket.destroy();
	const sorted = latencies.sort((a, b) => a - b);
	const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
	return { sent, completed: sorted.length, non2xx, errors, achievedRate: sorted.length / elapsed, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

/** The byte length of the first whole HTTP/1.1 response in buffer, or undefined while it is incomplete. */
function responseLength(buffer) {
	const headEnd = buffer.indexOf("\r\n\r\n");
	if (headEnd === -1) return undefined;
	const head = buffer.subarray(0, headEnd).toString("latin1");
	let offset = headEnd + 4;
	if (!/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
		const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
		if (length === null) throw new Error("pacedLoad: a response with neither content-length nor chunked framing");
		offset += Number(length[1]);
		return buffer.length >= offset ? offset : undefined;
	}
	// Chunked (RFC 9112 section 7.1): size lines until the zero-size chunk and its final CRLF (no trailers expected).
	for (;;) {
		const lineEnd = buffer.indexOf("\r\n", offset);
		if (lineEnd === -1) return undefined;
		const size = Number.parseInt(buffer.subarray(offset, lineEnd).toString("latin1"), 16);
		offset = lineEnd + 2 + size + 2;
		if (buffer.length < offset) return undefined;
		if (size === 0) return offset;
	}
}
