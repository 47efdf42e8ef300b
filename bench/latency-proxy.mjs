// A TCP proxy that adds a fixed round-trip time between the Twofold nodes and PostgreSQL (BENCH_PG_LATENCY_MS,
// issue 19): what a database on another host costs each round trip. netem on a veth pair would be the natural tool,
// but this VM's kernel has no netem qdisc ("Specified qdisc kind is unknown"), so the delay is added here.
//
// The whole delay is on the way to PostgreSQL; answers come back at once. A round trip (a query and its answer)
// then pays exactly N ms, as it would with N/2 each way, and N stays a whole number of milliseconds, the finest a
// Node timer can wait (N/2 of an odd N could not be expressed). Every chunk keeps its place: a connection's chunks
// leave in the order they came, none before its due time (a timer that fires early is set again).
//
// Run as a process of its own (`node bench/latency-proxy.mjs`, LATENCY_PROXY_TARGET=host:port,
// LATENCY_PROXY_DELAY_MS=N): its timers then do not queue behind the load generator's work.
import { createConnection, createServer } from "node:net";
import { pathToFileURL } from "node:url";

/** Starts the proxy on 127.0.0.1 (port 0: any free one); resolves to { port, close() }. */
export function startLatencyProxy({ targetHost, targetPort, delayMs, port = 0 }) {
	if (!Number.isInteger(delayMs) || delayMs < 1) throw new TypeError(`latency proxy: the delay must be a whole number of ms, at least 1 (got ${delayMs})`);
	const sockets = new Set();
	const server = createServer((client) => {
		const upstream = createConnection({ host: targetHost, port: targetPort });
		for (const socket of [client, upstream]) {
			// Without it, Nagle's algorithm holds small writes back for the peer's delayed ACK (up to 40 ms).
			socket.setNoDelay(true);
			sockets.add(socket);
			socket.on("close", () => sockets.delete(socket));
			socket.on("error", () => {
				client.destroy();
				upstream.destroy();
			});
		}
		delayed(client, upstream, delayMs);
		upstream.on("data", (chunk) => client.write(chunk));
		upstream.on("end", () => client.end());
		// A client gone abruptly: what it sent before still reaches PostgreSQL (a Terminate message), then the link closes.
		client.on("close", () => setTimeout(() => upstream.destroy(), delayMs + 1));
		upstream.on("close", () => client.destroy());
	});
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, "127.0.0.1", () =>
			resolve({
				port: server.address().port,
				close: () =>
					new Promise((done) => {
						for (const socket of sockets) socket.destroy();
						server.close(() => done());
					}),
			}),
		);
	});
}

/** Forwards from → to, each chunk (and the end) no sooner than delayMs after it arrived, in arrival order. */
function delayed(from, to, delayMs) {
	const queue = [];
	let timer;
	const flush = () => {
		timer = undefined;
		const now = performance.now();
		while (queue.length > 0 && queue[0].due <= now) {
			const { chunk } = queue.shift();
			if (chunk === null) to.end();
			else to.write(chunk);
		}
		if (queue.length > 0) schedule();
	};
	const schedule = () => {
		if (timer === undefined) timer = setTimeout(flush, Math.max(1, Math.ceil(queue[0].due - performance.now())));
	};
	const push = (chunk) => {
		queue.push({ chunk, due: performance.now() + delayMs });
		schedule();
	};
	from.on("data", push);
	from.on("end", () => push(null));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
	const [targetHost, targetPort] = (process.env.LATENCY_PROXY_TARGET ?? "").split(":");
	const proxy = await startLatencyProxy({ targetHost, targetPort: Number(targetPort), delayMs: Number(process.env.LATENCY_PROXY_DELAY_MS) });
	process.stdout.write(`latency proxy listening at 127.0.0.1:${proxy.port}\n`);
	process.on("SIGTERM", () => void proxy.close().then(() => process.exit(0)));
}
