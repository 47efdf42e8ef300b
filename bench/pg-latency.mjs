// BENCH_PG_LATENCY_MS=N (issue 19): the Twofold nodes reach PostgreSQL through bench/latency-proxy.mjs, which adds
// N ms to every round trip, in a process of its own. Seeding and the bench's own readings keep the direct URL: only
// the nodes under test pay the delay. The round trip actually achieved is measured, not assumed: `select 1` over
// the proxy and directly, one after another on one connection each.
import { spawn } from "node:child_process";
import pg from "pg";

const SAMPLES = 300;

/** BENCH_PG_LATENCY_MS: undefined when unset, else a whole number of ms of at least 1 (anything else is refused). */
export function pgLatencyFromEnv(value) {
	if (value === undefined) return undefined;
	const delayMs = Number(value);
	if (!Number.isInteger(delayMs) || delayMs < 1) throw new Error(`BENCH_PG_LATENCY_MS must be a whole number of ms, at least 1 (got ${JSON.stringify(value)})`);
	return delayMs;
}

/** Starts the proxy for databaseURL; resolves to { url (the nodes' URL), summary (a line to print), stop() }. */
export async function pgLatencyMode({ databaseURL, delayMs }) {
	const direct = new URL(databaseURL);
	const child = spawn(process.execPath, [new URL("./latency-proxy.mjs", import.meta.url).pathname], {
		env: { ...process.env, LATENCY_PROXY_TARGET: `${direct.hostname}:${direct.port || 5432}`, LATENCY_PROXY_DELAY_MS: String(delayMs) },
		stdio: ["ignore", "pipe", "inherit"],
	});
	const port = await new Promise((resolve, reject) => {
		let out = "";
		child.stdout.on("data", (chunk) => {
			out += chunk;
			const match = /latency proxy listening at 127\.0\.0\.1:(\d+)/.exec(out);
			if (match) resolve(match[1]);
		});
		child.on("exit", (code) => reject(new Error(`the latency proxy exited with ${code}: ${out}`)));
	});
	const proxied = new URL(databaseURL);
	proxied.hostname = "127.0.0.1";
	proxied.port = port;
	const stop = () => new Promise((resolve) => {
		if (child.exitCode !== null) return resolve();
		child.on("exit", resolve);
		child.kill("SIGTERM");
	});
	try {
		const directTimes = await roundTrips(direct.toString());
		const proxiedTimes = await roundTrips(proxied.toString());
		const summary =
			`PostgreSQL round trip (select 1, ${SAMPLES} each, ms): direct p50 ${percentile(directTimes, 0.5).toFixed(2)}, p99 ${percentile(directTimes, 0.99).toFixed(2)}; ` +
			`through the ${delayMs} ms latency proxy p50 ${percentile(proxiedTimes, 0.5).toFixed(2)}, p99 ${percentile(proxiedTimes, 0.99).toFixed(2)} ` +
			`(added at p50: ${(percentile(proxiedTimes, 0.5) - percentile(directTimes, 0.5)).toFixed(2)})`;
		process.stdout.write(`${summary}\n`);
		return { url: proxied.toString(), summary, stop };
	} catch (error) {
		await stop();
		throw error;
	}
}

async function roundTrips(connectionString) {
	const client = new pg.Client({ connectionString });
	await client.connect();
	try {
		for (let i = 0; i < 20; i++) await client.query("select 1");
		const times = [];
		for (let i = 0; i < SAMPLES; i++) {
			const started = performance.now();
			await client.query("select 1");
			times.push(performance.now() - started);
		}
		return times;
	} finally {
		await client.end();
	}
}

function percentile(values, p) {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
