// npm run bench: Twofold's POST /v1/users/{id}/verify against a bare Fastify route,
// each in its own process, under autocannon with the same connections and duration.
// Environment: BENCH_SECONDS (default 10), BENCH_CONNECTIONS (50), BENCH_USERS (150000), BENCH_ROUNDS (3).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { generateTOTP } from "../packages/server/dist/core/totp.js";
import { benchSecret, seed } from "./seed.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const users = Number(process.env.BENCH_USERS ?? 150_000);

function start(args, env) {
	const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
	return new Promise((resolve, reject) => {
		let out = "";
		child.stdout.on("data", (chunk) => {
			out += chunk;
			const match = /(?:Server|Twofold) listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
			if (match) resolve({ url: match[1], stop: () => new Promise((r) => { child.on("exit", r); child.kill("SIGTERM"); }) });
		});
		child.on("exit", (code) => reject(new Error(`exited with ${code}: ${out}`)));
	});
}

function load(url, headers, bodyFor) {
	return new Promise((resolve, reject) => {
		const instance = autocannon(
			{
				url,
				connections,
				duration: seconds,
				requests: [
					{
						method: "POST",
						setupRequest: (request) => {
							const { path, body } = bodyFor();
							return { ...request, path, headers: { ...headers, "content-type": "application/json" }, body };
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
});

// Both servers stay up and the three loads alternate, round after round: this
// machine's speed drifts over minutes, and a ratio of two runs taken at
// different times measures the drift as much as the service.
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const perRound = [];
const dataDir = mkdtempSync(join(tmpdir(), "twofold-bench-"));
let baseline;
let service;
try {
	const masterKey = randomBytes(32).toString("base64");
	const secretSeed = randomBytes(32);
	process.stdout.write(`seeding ${users} users...\n`);
	const { apiKey } = await seed({ dataDir, masterKeyBase64: masterKey, users, secretSeed });
	baseline = await start([new URL("./baseline.mjs", import.meta.url).pathname], {});
	service = await start([...(process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] : []), new URL("../packages/server/bin/twofold.js", import.meta.url).pathname, "serve"], {
		TWOFOLD_DATA_DIR: dataDir,
		TWOFOLD_MASTER_KEY: masterKey,
		TWOFOLD_PORT: "0",
		TWOFOLD_LOG_LEVEL: "warn",
	});
	const auth = { authorization: `Bearer ${apiKey}` };
	let n = 0;
	let next = 0;
	let wrongIndex = 0;
	const bare = () => ({ path: `/v1/users/user-${n++}/verify`, body: '{"code":"123456"}' });
	// Each request is a different user, so no code is ever a replay (the seed has enough users for the run).
	const correct = () => {
		const i = next++ % users;
		const code = generateTOTP({ key: benchSecret(secretSeed, i), nowInMilliseconds: Date.now(), periodInSeconds: 30, digits: 6, algorithm: "SHA1" });
		return { path: `/v1/users/user-${i}/verify`, body: `{"code":"${code}"}` };
	};
	const wrong = () => ({ path: `/v1/users/user-${wrongIndex++ % users}/verify`, body: '{"code":"000000"}' });
	for (let round = 1; round <= rounds; round++) {
		const b = row("baseline (bare Fastify)", await load(baseline.url, {}, bare));
		const ok = row("twofold verify, correct codes", await load(service.url, auth, correct));
		const bad = row("twofold verify, wrong codes", await load(service.url, auth, wrong));
		perRound.push({ round, b, ok, bad });
		process.stdout.write(`round ${round}: baseline ${b.rps.toFixed(0)} req/s, correct ${ok.rps.toFixed(0)}, wrong ${bad.rps.toFixed(0)}\n`);
	}
	if (next > users) process.stdout.write(`warning: ${next} correct-code requests for ${users} users: some were replays\n`);
} finally {
	await baseline?.stop();
	await service?.stop();
	rmSync(dataDir, { recursive: true, force: true });
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const results = perRound.flatMap(({ round, b, ok, bad }) => [b, ok, bad].map((r) => ({ round, ...r })));
console.log(`\nmachine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}; ${connections} connections, ${seconds} s each, ${users} users`);
console.table(results.map((r) => ({ ...r, rps: Math.round(r.rps) })));
const okRatios = perRound.map(({ b, ok }) => ok.rps / b.rps);
const badRatios = perRound.map(({ b, bad }) => bad.rps / b.rps);
console.log(`per-round verify/baseline ratios: ${okRatios.map((r) => r.toFixed(2)).join(" ")} (median of ${rounds} rounds below)`);
console.log(`wrong-code/baseline ratio: ${median(badRatios).toFixed(2)}`);
console.log(`verify/baseline ratio: ${median(okRatios).toFixed(2)}`);
