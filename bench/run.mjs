// npm run bench (BENCH_MODE=verify, the default; BENCH_MODE=import is `npm run bench:import`, bench/import-load.mjs):
// Twofold's POST /v1/users/{id}/verify against a bare Fastify route,
// each in its own process, under autocannon with the same connections and duration.
// Environment: BENCH_SECONDS (default 10), BENCH_CONNECTIONS (50), BENCH_USERS (400000), BENCH_ROUNDS (3),
// BENCH_DATABASE (sqlite, or postgres: a fresh schema in BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test),
// BENCH_NODES (1; more than one needs postgres: the load is split evenly over the nodes),
// BENCH_DURABLE_BASELINE (1 adds a bare route that makes one durable SQLite commit per request, bench/durable-baseline.mjs),
// BENCH_ENROLL (0 skips the last part: one tenant's verify p50 while another enrolls at full speed, bench/enroll-interference.mjs;
// BENCH_ENROLL_VERIFY_RATE, default 200 verifies/s, and BENCH_ENROLL_CONNECTIONS, default 4 enrolling connections).
// After the rounds: an open-loop run at half the median correct-code rate (bench/paced-load.mjs; its p50/p99),
// and each node's peak RSS. The hosted prompt (issue 15, bench/prompt-load.mjs) in every round beside the API verify:
// GET /authorize, the verify page's GET and the code POST, each BENCH_PROMPT_REQUESTS (default 2000) requests on
// interactions prepared beforehand, then each page's transferred size (BENCH_PROMPT=0 skips the prompt).
// BENCH_DATABASE=postgres also prints PostgreSQL's side of each correct-code load per verify (bench/pg-stats.mjs:
// pg_stat_statements execution time and statements when loaded, WAL bytes, PostgreSQL's CPU), and BENCH_PG_LATENCY_MS=N
// puts N ms on every round trip between the nodes and PostgreSQL (bench/pg-latency.mjs, issue 19).
// BENCH_PEERS=1 (issue 19) adds better-auth's verify-totp to every round, the same load on a peer (bench/peers.mjs;
// BENCH_PEER_USERS, default 200 per second of load, users signed in before each round).
// Codes are computed before each load, so the load generator, which shares the
// machine's cores with the service, spends nothing per request on HMACs.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { readFileSync } from "node:fs";
import { decodeBase32 } from "../packages/server/dist/core/base32.js";
import { generateTOTP } from "../packages/server/dist/core/totp.js";
import { enrollInterference } from "./enroll-interference.mjs";
import { pacedLoad } from "./paced-load.mjs";
import { promptPageSizes, promptRound, promptSetup } from "./prompt-load.mjs";
import { benchSecret, seed } from "./seed.mjs";
import { postgresSchema } from "./postgres-schema.mjs";
import { pgLatencyFromEnv, pgLatencyMode } from "./pg-latency.mjs";
import { pgStatistics } from "./pg-stats.mjs";

// BENCH_MODE=import (npm run bench:import): `twofold import` of 100,000 users instead, bench/import-load.mjs (issue 17).
const mode = process.env.BENCH_MODE ?? "verify";
if (mode !== "verify" && mode !== "import") throw new Error("BENCH_MODE must be verify (the default) or import");
if (mode === "import") {
	const { runImportBench } = await import("./import-load.mjs");
	await runImportBench();
	process.exit(0);
}

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const users = Number(process.env.BENCH_USERS ?? 400_000);
const database = process.env.BENCH_DATABASE ?? "sqlite";
const nodeCount = Number(process.env.BENCH_NODES ?? 1);
const withDurableBaseline = process.env.BENCH_DURABLE_BASELINE === "1";
const withEnroll = process.env.BENCH_ENROLL !== "0";
const withPrompt = process.env.BENCH_PROMPT !== "0";
const withPeers = process.env.BENCH_PEERS === "1";
const promptRequests = Number(process.env.BENCH_PROMPT_REQUESTS ?? 2000);
if (database !== "sqlite" && database !== "postgres") throw new Error("BENCH_DATABASE must be sqlite or postgres");
const pgLatencyMs = pgLatencyFromEnv(process.env.BENCH_PG_LATENCY_MS);
if (pgLatencyMs !== undefined && database !== "postgres") throw new Error("BENCH_PG_LATENCY_MS needs BENCH_DATABASE=postgres");
if (nodeCount > 1 && database !== "postgres") throw new Error("BENCH_NODES > 1 needs BENCH_DATABASE=postgres (the embedded SQLite file serves one process)");

/** Peak resident set of a process (VmHWM), in MB. */
function peakRSS(pid) {
	const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
	return match ? Number(match[1]) / 1024 : NaN;
}

/**
 * CPU time a process has used so far (user + system, all its threads), in ms: /proc/<pid>/stat fields 14 and 15, in
 * clock ticks (100 a second on Linux). Per request, it is what a request costs the server, which a machine shared with
 * other work distorts far less than latency or throughput.
 */
function cpuMs(pid) {
	const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
	return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Runs a load and adds the servers' CPU ms per request answered to its result. */
async function withCPU(pids, run) {
	const before = pids.map(cpuMs);
	const result = await run();
	const used = pids.reduce((sum, pid, k) => sum + cpuMs(pid) - before[k], 0);
	return { ...result, cpuPerRequest: used / Math.max(1, result.requests.total ?? result.requests.average * seconds) };
}

function start(args, env) {
	const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
	return new Promise((resolve, reject) => {
		let out = "";
		child.stdout.on("data", (chunk) => {
			out += chunk;
			const match = /(?:Server|Twofold) listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
			if (match) resolve({ url: match[1], pid: child.pid, stop: () => new Promise((r) => { child.on("exit", r); child.kill("SIGTERM"); }) });
		});
		child.on("exit", (code) => reject(new Error(`exited with ${code}: ${out}`)));
	});
}

/** One autocannon per URL, the connections split evenly; the results combined. */
async function load(urls, headers, bodyFor) {
	const list = Array.isArray(urls) ? urls : [urls];
	const results = await Promise.all(list.map((url) => loadOne(url, headers, bodyFor, Math.max(1, Math.round(connections / list.length)))));
	if (results.length === 1) return results[0];
	// Percentiles of the parts cannot be merged exactly; the slowest part's is reported (an upper bound).
	return {
		requests: { average: results.reduce((sum, r) => sum + r.requests.average, 0), total: results.reduce((sum, r) => sum + r.requests.total, 0) },
		latency: { p50: Math.max(...results.map((r) => r.latency.p50)), p99: Math.max(...results.map((r) => r.latency.p99)) },
		"2xx": results.reduce((sum, r) => sum + r["2xx"], 0),
		non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
		errors: results.reduce((sum, r) => sum + r.errors, 0),
		timeouts: results.reduce((sum, r) => sum + r.timeouts, 0),
	};
}

/** The open-loop run at a fixed rate over all URLs, in the same shape as load()'s result. */
async function paced(urls, headers, bodyFor, overallRate) {
	const results = await Promise.all(
		urls.map((url) => pacedLoad({ url, rate: overallRate / urls.length, seconds, connections: Math.max(1, Math.round(connections / urls.length)), headers, next: bodyFor })),
	);
	return {
		requests: { average: results.reduce((sum, r) => sum + r.achievedRate, 0) },
		// As in load(): the slowest part's percentiles, an upper bound.
		latency: { p50: Math.max(...results.map((r) => r.p50)), p99: Math.max(...results.map((r) => r.p99)) },
		"2xx": results.reduce((sum, r) => sum + r.completed - r.non2xx, 0),
		non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
		// Every request left without an answer, whatever the cause (a socket error leaves its request unanswered too).
		errors: results.reduce((sum, r) => sum + (r.sent - r.completed), 0),
		timeouts: 0,
	};
}

function loadOne(url, headers, bodyFor, connectionCount) {
	return new Promise((resolve, reject) => {
		const instance = autocannon(
			{
				url,
				connections: connectionCount,
				duration: seconds,
				requests: [
					{
						method: "POST",
						setupRequest: (request) => {
							// A request may bring headers of its own (a peer's cookies).
							const { path, body, headers: own } = bodyFor();
							return { ...request, path, headers: { ...headers, ...own, "content-type": "application/json" }, body };
						},
					},
				],
			},
			(error, result) => (error ? reject(error) : resolve(result)),
		);
		autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
	});
}

const row = (name, r) => ({
	name,
	rps: r.requests.average,
	p50: r.latency.p50,
	p99: r.latency.p99,
	ok: r["2xx"],
	non2xx: r.non2xx,
	errors: r.errors + r.timeouts,
	...(r.cpuPerRequest === undefined ? {} : { "cpu ms/req": Number(r.cpuPerRequest.toFixed(2)) }),
});

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// Both servers stay up and the three loads alternate, round after round: this
// machine's speed drifts over minutes, and a ratio of two runs taken at
// different times measures the drift as much as the service.
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const perRound = [];
const dataDir = mkdtempSync(join(tmpdir(), "twofold-bench-"));
let baseline;
let durableBaseline;
const services = [];
let schema;
let pgStats;
let pgLatency;
let halfRate;
let enrollRows;
let pageSizes;
let peers;
const rss = [];
try {
	const masterKey = randomBytes(32).toString("base64");
	const secretSeed = randomBytes(32);
	schema = database === "postgres" ? await postgresSchema("bench") : undefined;
	process.stdout.write(`seeding ${users} users (${database})...\n`);
	const { apiKey, enrollerApiKey } = await seed({ dataDir, databaseURL: schema?.url, masterKeyBase64: masterKey, users, secretSeed });
	if (schema) pgStats = await pgStatistics(schema.url);
	// Only the nodes under test reach PostgreSQL through the delay; the seed above and pgStats go direct.
	if (schema && pgLatencyMs !== undefined) pgLatency = await pgLatencyMode({ databaseURL: schema.url, delayMs: pgLatencyMs });
	baseline = await start([new URL("./baseline.mjs", import.meta.url).pathname], {});
	if (withDurableBaseline) durableBaseline = await start([new URL("./durable-baseline.mjs", import.meta.url).pathname], {});
	const startNode = (env = {}) =>
		start([...(process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] : []), new URL("../packages/server/bin/twofold.js", import.meta.url).pathname, "serve"], {
			TWOFOLD_DATA_DIR: dataDir,
			TWOFOLD_MASTER_KEY: masterKey,
			TWOFOLD_PORT: "0",
			TWOFOLD_LOG_LEVEL: "warn",
			...(schema ? { TWOFOLD_DATABASE_URL: pgLatency?.url ?? schema.url } : {}),
			...env,
		});
	for (let i = 0; i < nodeCount; i++) services.push(await startNode());
	const serviceURLs = services.map((s) => s.url);
	const auth = { authorization: `Bearer ${apiKey}` };
	let n = 0;
	let next = 0;
	let wrongIndex = 0;
	const bare = () => ({ path: `/v1/users/user-${n++}/verify`, body: '{"code":"123456"}' });
	// Each request is a different user, so no code is ever a replay (the seed has enough users for the run).
	// The codes of the users a load may reach, for the current time step and the next (a load is shorter than a step).
	const secrets = Array.from({ length: users }, (_, i) => benchSecret(secretSeed, i));
	let codes = new Map();
	const prepareCodes = () => {
		const step = Math.floor(Date.now() / 30_000);
		const reach = Math.min(users, seconds * 15_000);
		const forStep = (s) => {
			const list = new Map();
			for (let k = 0; k < reach; k++) {
				const i = (next + k) % users;
				list.set(i, generateTOTP({ key: secrets[i], nowInMilliseconds: s * 30_000, periodInSeconds: 30, digits: 6, algorithm: "SHA1" }));
			}
			return list;
		};
		codes = new Map([[step, forStep(step)], [step + 1, forStep(step + 1)]]);
	};
	const correct = () => {
		const i = next++ % users;
		const now = Date.now();
		// Past the precomputed codes (a machine above 15k verifies/s), the code is computed here.
		const code = codes.get(Math.floor(now / 30_000))?.get(i) ?? generateTOTP({ key: secrets[i], nowInMilliseconds: now, periodInSeconds: 30, digits: 6, algorithm: "SHA1" });
		return { path: `/v1/users/user-${i}/verify`, body: `{"code":"${code}"}` };
	};
	const wrong = () => ({ path: `/v1/users/user-${wrongIndex++ % users}/verify`, body: '{"code":"000000"}' });
	// The prompt's code posts take their users from the same sequence as the API's correct codes: no user's step twice.
	const totpNow = (key) => generateTOTP({ key, nowInMilliseconds: Date.now(), periodInSeconds: 30, digits: 6, algorithm: "SHA1" });
	const promptUsers = { nextUser: () => next++ % users, codeOf: (i) => totpNow(secrets[i]) };
	// On the first node: an interaction lives in the shared database, but one node's figures are the comparable ones.
	const prompt = withPrompt ? await promptSetup({ url: serviceURLs[0], apiKey }) : undefined;
	// Loaded only when asked for: a run without the peer needs no better-auth installed.
	const peerModule = withPeers ? await import("./peers.mjs") : undefined;
	if (peerModule) peers = await peerModule.startPeers({ start, seconds, connections, twofold: { url: serviceURLs[0], headers: auth, request: correct } });
	for (let round = 1; round <= rounds; round++) {
		const peerLoad = await peers?.prepareRound(round);
		const b = row("baseline (bare Fastify)", await load(baseline.url, {}, bare));
		prepareCodes();
		const correctLoad = () => load(serviceURLs, auth, correct);
		const ok = row("twofold verify, correct codes", await withCPU(services.map((s) => s.pid), () => (pgStats ? pgStats.measure(correctLoad) : correctLoad())));
		const bad = row("twofold verify, wrong codes", await load(serviceURLs, auth, wrong));
		const durable = durableBaseline && row("bare Fastify + one durable SQLite commit", await load(durableBaseline.url, {}, bare));
		const peer = peerLoad && row(peerModule.PEER_ROW, await withCPU([peers.pid], () => peerLoad(load)));
		let promptRows;
		if (prompt) {
			const p = await promptRound({ setup: prompt, connections, requests: promptRequests, ...promptUsers, measure: (run) => withCPU([services[0].pid], run) });
			promptRows = [row("prompt GET /authorize (fresh PAR)", p.authorize), row("prompt GET verify page (fresh interaction)", p.page), row("prompt POST code (correct, fresh interaction)", p.post)];
			for (const [name, r] of Object.entries(p)) if (r.non2xx + r.errors > 0) process.stdout.write(`prompt ${name}: ${r.non2xx} not as expected, ${r.errors} errors; statuses ${JSON.stringify(r.statuses)}\n`);
		}
		perRound.push({ round, b, ok, bad, ...(durable ? { durable } : {}), ...(peer ? { peer } : {}), ...(promptRows ? { promptRows } : {}) });
		process.stdout.write(
			`round ${round}: baseline ${b.rps.toFixed(0)} req/s, correct ${ok.rps.toFixed(0)}, wrong ${bad.rps.toFixed(0)}${durable ? `, durable baseline ${durable.rps.toFixed(0)}` : ""}` +
				`${peer ? `, better-auth ${peer.rps.toFixed(0)}` : ""}` +
				`${promptRows ? `, prompt authorize ${promptRows[0].rps.toFixed(0)}, page ${promptRows[1].rps.toFixed(0)}, code post ${promptRows[2].rps.toFixed(0)}` : ""}\n`,
		);
	}
	// Latency when not saturated: requests due at even intervals, at half the median correct-code throughput.
	const rate = Math.round(median(perRound.map(({ ok }) => ok.rps)) / 2);
	prepareCodes();
	halfRate = { rate, ...row("twofold verify, correct codes, half rate", await paced(serviceURLs, auth, correct, rate)) };
	if (prompt) pageSizes = await promptPageSizes({ setup: prompt, ...promptUsers, codeFor: (secret) => totpNow(decodeBase32(secret)) });
	for (const s of services) rss.push(peakRSS(s.pid));
	if (withEnroll) {
		// One node of its own per configuration: the embedded SQLite file takes one process at a time.
		for (const s of services.splice(0)) await s.stop();
		process.stdout.write("enroll interference: tenant 1 verifies at a fixed rate, alone, then while tenant 2 enrolls at full speed...\n");
		enrollRows = await enrollInterference({
			startNode,
			nextVerify: correct,
			prepareCodes,
			verifyKey: apiKey,
			enrollKey: enrollerApiKey,
			seconds,
			verifyRate: Number(process.env.BENCH_ENROLL_VERIFY_RATE ?? 200),
			verifyConnections: Math.min(connections, 16),
			enrollConnections: Number(process.env.BENCH_ENROLL_CONNECTIONS ?? 4),
		});
	}
	if (next > users) process.stdout.write(`warning: ${next} correct-code requests for ${users} users: some were replays\n`);
} finally {
	await baseline?.stop();
	await durableBaseline?.stop();
	await peers?.stop();
	for (const s of services) await s.stop();
	await pgLatency?.stop();
	await pgStats?.close();
	await schema?.drop();
	rmSync(dataDir, { recursive: true, force: true });
}
const results = perRound.flatMap(({ round, b, ok, bad, durable, peer, promptRows }) =>
	[b, ok, bad, ...(durable ? [durable] : []), ...(peer ? [peer] : []), ...(promptRows ?? [])].map((r) => ({ round, ...r })),
);
console.log(
	`\nmachine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}; ${database}, ${nodeCount} node(s)` +
		`${pgLatency ? `, ${pgLatencyMs} ms added per PostgreSQL round trip` : ""}; ${connections} connections, ${seconds} s each, ${users} users`,
);
if (pgLatency) console.log(pgLatency.summary);
console.table(results.map((r) => ({ ...r, rps: Math.round(r.rps) })));
const okRatios = perRound.map(({ b, ok }) => ok.rps / b.rps);
const badRatios = perRound.map(({ b, bad }) => bad.rps / b.rps);
console.log(`per-round verify/baseline ratios: ${okRatios.map((r) => r.toFixed(2)).join(" ")} (median of ${rounds} rounds below)`);
console.log(
	`half rate (${halfRate.rate} req/s, correct codes, open loop): achieved ${Math.round(halfRate.rps)} req/s, p50 ${halfRate.p50.toFixed(1)} ms, p99 ${halfRate.p99.toFixed(1)} ms, non-2xx ${halfRate.non2xx}, errors ${halfRate.errors}`,
);
console.log(`peak RSS per node: ${rss.map((mb) => `${mb.toFixed(0)} MB`).join(", ")}`);
if (withDurableBaseline) {
	const durableRatios = perRound.map(({ b, durable }) => durable.rps / b.rps);
	const okToDurable = perRound.map(({ ok, durable }) => ok.rps / durable.rps);
	console.log(`durable-baseline/baseline ratio: ${median(durableRatios).toFixed(2)}; verify/durable-baseline ratio: ${median(okToDurable).toFixed(2)}`);
}
if (enrollRows) {
	console.log("one tenant's verify latency (ms, open loop) while another tenant enrolls at full speed:");
	console.table(enrollRows);
}
if (withPrompt) {
	// Beside the API verify of the same rounds: medians over the rounds; the ratios are per round, then their median.
	const api = { p50: median(perRound.map(({ ok }) => ok.p50)), p99: median(perRound.map(({ ok }) => ok.p99)) };
	const apiCPU = median(perRound.map(({ ok }) => ok["cpu ms/req"]));
	console.log(`hosted prompt (${promptRequests} requests a load, ${connections} connections; API verify correct codes p50 ${api.p50} ms, p99 ${api.p99} ms, ${apiCPU} CPU ms/req, same rounds):`);
	console.table(
		perRound[0].promptRows.map((first, k) => {
			const rows = perRound.map(({ promptRows }) => promptRows[k]);
			return {
				name: first.name,
				rps: Math.round(median(rows.map((r) => r.rps))),
				p50: median(rows.map((r) => r.p50)),
				p99: median(rows.map((r) => r.p99)),
				"cpu ms/req": median(rows.map((r) => r["cpu ms/req"])),
				"rps / API verify": Number(median(perRound.map(({ ok, promptRows }) => promptRows[k].rps / ok.rps)).toFixed(2)),
				"p50 / API verify": Number(median(perRound.map(({ ok, promptRows }) => promptRows[k].p50 / ok.p50)).toFixed(2)),
				"cpu / API verify": Number(median(perRound.map(({ ok, promptRows }) => promptRows[k]["cpu ms/req"] / ok["cpu ms/req"])).toFixed(2)),
				"rps / baseline": Number(median(perRound.map(({ b, promptRows }) => promptRows[k].rps / b.rps)).toFixed(3)),
				"not as expected": rows.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
			};
		}),
	);
	console.log("prompt pages, transferred (uncompressed: status line, headers and body; assets each counted once; the passkey module apart):");
	console.table(pageSizes);
}
pgStats?.report();
if (peers) for (const line of peers.summary(perRound)) console.log(line);
console.log(`wrong-code/baseline ratio: ${median(badRatios).toFixed(2)}`);
console.log(`verify/baseline ratio: ${median(okRatios).toFixed(2)}`);
