// npm run bench:import (BENCH_MODE=import): `twofold import` of 100,000 users, the built CLI in its own process, from
// an OATH CSV and from a PBKDF2-encrypted PSKC file (bench/import-files.mjs), into a fresh SQLite data dir and a fresh
// PostgreSQL schema. For each format × database: users per second over the command's wall clock (process start to
// exit: Node's start-up, the PBKDF2 derivation and the final report included) and the process's peak RSS
// (/usr/bin/time -v, "Maximum resident set size"), against the targets (5,000 users/s into SQLite, 2,000 into
// PostgreSQL, under 250 MB). Beside them, today's way in: POST /v1/users/{id}/factors over HTTP, one user a request.
// Each import is checked: the report says every user was created, and a sample of users verify a code over the API.
// The machine's load (uptime) is printed with each figure: on a shared machine a figure means little without it.
//
// Environment: BENCH_IMPORT_USERS (100000), BENCH_IMPORT_FORMATS (oath-csv,pskc), BENCH_IMPORT_DATABASES
// (sqlite,postgres; BENCH_DATABASE_URL as for npm run bench), BENCH_IMPORT_DIR (reuse the files there, or create it and keep them there; they are
// generated into a temp dir otherwise, never the repo), BENCH_PSKC_ITERATIONS (600000, as the export writes),
// BENCH_ENROLL (0 skips the enroll rate), BENCH_SECONDS (10, the enroll load), BENCH_ENROLL_CONNECTIONS (4).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, uptime } from "node:os";
import { join } from "node:path";
import { createApp } from "../packages/server/dist/app.js";
import { loadConfig } from "../packages/server/dist/config.js";
import { generateTOTP } from "../packages/server/dist/core/totp.js";
import { importSecret, importUserId, writeImportFiles, writeOathCSV, writePSKC } from "./import-files.mjs";
import { enrollLoad } from "./enroll-interference.mjs";
import { postgresSchema } from "./postgres-schema.mjs";

const CLI = new URL("../packages/server/bin/twofold.js", import.meta.url).pathname;
/** The figures (issue 17, Speed): on this 2-core machine. */
export const TARGETS = { usersPerSecond: { sqlite: 5000, postgres: 2000 }, peakRSSMB: 250 };

/** The load averages (1, 5, 15 min) as uptime prints them, and the cores they are shared by. */
export function machineLoad() {
	return `load ${loadavg().map((l) => l.toFixed(2)).join(", ")} on ${cpus().length} cores (up ${Math.round(uptime() / 60)} min)`;
}

/** A fresh database (SQLite data dir or PostgreSQL schema) with one tenant: the env a twofold process needs, and its key. */
async function freshDatabase(database, root) {
	const dataDir = mkdtempSync(join(root, `data-${database}-`));
	const schema = database === "postgres" ? await postgresSchema("bench_import") : undefined;
	const env = {
		TWOFOLD_DATA_DIR: dataDir,
		TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64"),
		TWOFOLD_LOG_LEVEL: "warn",
		...(schema ? { TWOFOLD_DATABASE_URL: schema.url } : {}),
	};
	const app = await createApp(loadConfig(env, process.cwd()));
	try {
		const { tenant, apiKey } = await app.services.tenants.create("bench-import");
		return { env, tenantId: tenant.id, apiKey, drop: async () => { await schema?.drop(); rmSync(dataDir, { recursive: true, force: true }); } };
	} finally {
		await app.close();
	}
}

/** /usr/bin/time -v's report: the peak RSS in MB, CPU seconds (user + system) and its own wall clock. */
export function parseTimeReport(stderr) {
	const number = (label) => {
		const match = new RegExp(`${label}:\\s*([\\d.:]+)`).exec(stderr);
		return match ? match[1] : undefined;
	};
	const rssKB = Number(number("Maximum resident set size \\(kbytes\\)"));
	return { peakRSSMB: rssKB / 1024, cpuSeconds: Number(number("User time \\(seconds\\)")) + Number(number("System time \\(seconds\\)")) };
}

/**
 * Runs `twofold import --json` on one file in its own process under /usr/bin/time -v. The passphrase goes in on a file
 * descriptor (--passphrase-fd 3, a 0600 file opened for the child), never an argument (as the issue asks: a process's
 * arguments are visible to every user of the machine).
 */
async function runImport({ db, format, file, passphraseFile }) {
	const args = ["-v", process.execPath, CLI, "import", "--tenant", db.tenantId, "--format", format, "--json"];
	const stdio = ["ignore", "pipe", "pipe"];
	let fd;
	if (passphraseFile) {
		fd = openSync(passphraseFile, "r");
		stdio.push(fd);
		args.push("--passphrase-fd", "3");
	}
	args.push(file);
	const load = machineLoad();
	const started = process.hrtime.bigint();
	const child = spawn("/usr/bin/time", args, { env: { ...process.env, ...db.env }, stdio });
	let stdout = "";
	let stderr = "";
	child.stdout.on("data", (chunk) => (stdout += chunk));
	child.stderr.on("data", (chunk) => (stderr += chunk));
	const code = await new Promise((resolve) => child.on("exit", resolve));
	const seconds = Number(process.hrtime.bigint() - started) / 1e9;
	if (fd !== undefined) closeSync(fd);
	let report;
	try {
		report = JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
	} catch {
		throw new Error(`twofold import (${format}) exited with ${code} without a JSON report; stderr:\n${stderr.slice(-4000)}`);
	}
	return { code, seconds, report, load, ...parseTimeReport(stderr), stderr };
}

/** A few users, first to last, verify a code over the API (the code of the next step: the import fenced the current one). */
async function verifySample({ db, seed, users }) {
	const app = await createApp(loadConfig(db.env, process.cwd()));
	try {
		const http = await app.http();
		const sample = [0, Math.floor(users / 2), users - 1];
		let valid = 0;
		for (const index of sample) {
			const code = generateTOTP({ key: importSecret(seed, index), nowInMilliseconds: Date.now() + 30_000, periodInSeconds: 30, digits: 6, algorithm: "SHA1" });
			const response = await http.inject({
				method: "POST",
				url: `/v1/users/${importUserId(index)}/verify`,
				headers: { authorization: `Bearer ${db.apiKey}`, "content-type": "application/json" },
				payload: JSON.stringify({ code }),
			});
			if (response.statusCode === 200 && response.json().valid === true) valid++;
		}
		return `${valid}/${sample.length}`;
	} finally {
		await app.close();
	}
}

/** Today's way in (issue 17's "about 35 users per second"): POST /v1/users/{id}/factors, a new user each request. */
async function enrollRate({ database, root, seconds, connections }) {
	const db = await freshDatabase(database, root);
	const child = spawn(process.execPath, [CLI, "serve"], {
		env: { ...process.env, ...db.env, TWOFOLD_PORT: "0", TWOFOLD_RATE_LIMIT_ENROLL: "0" },
		stdio: ["ignore", "pipe", "inherit"],
	});
	try {
		const url = await new Promise((resolve, reject) => {
			let out = "";
			child.stdout.on("data", (chunk) => {
				out += chunk;
				const match = /Twofold listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
				if (match) resolve(match[1]);
			});
			child.on("exit", (code) => reject(new Error(`twofold serve exited with ${code}: ${out}`)));
		});
		const load = machineLoad();
		const result = await enrollLoad(url, db.apiKey, seconds, connections);
		return { usersPerSecond: result["2xx"] / seconds, non2xx: result.non2xx, errors: result.errors + result.timeouts, load };
	} finally {
		await new Promise((resolve) => {
			if (child.exitCode !== null) return resolve();
			child.on("exit", resolve);
			child.kill("SIGTERM");
		});
		await db.drop();
	}
}

export async function runImportBench() {
	const users = Number(process.env.BENCH_IMPORT_USERS ?? 100_000);
	const formats = (process.env.BENCH_IMPORT_FORMATS ?? "oath-csv,pskc").split(",").filter(Boolean);
	const databases = (process.env.BENCH_IMPORT_DATABASES ?? "sqlite,postgres").split(",").filter(Boolean);
	const seconds = Number(process.env.BENCH_SECONDS ?? 10);
	const enrollConnections = Number(process.env.BENCH_ENROLL_CONNECTIONS ?? 4);
	for (const f of formats) if (f !== "oath-csv" && f !== "pskc") throw new Error("BENCH_IMPORT_FORMATS: oath-csv and/or pskc");
	for (const d of databases) if (d !== "sqlite" && d !== "postgres") throw new Error("BENCH_IMPORT_DATABASES: sqlite and/or postgres");
	if (!existsSync("/usr/bin/time")) throw new Error("the import bench measures peak RSS with /usr/bin/time -v (Debian package time)");

	const root = mkdtempSync(join(tmpdir(), "twofold-bench-import-"));
	const rows = [];
	const enrollRows = [];
	try {
		let files;
		const reuse = process.env.BENCH_IMPORT_DIR;
		if (reuse && existsSync(join(reuse, "bench.json"))) {
			// Files from an earlier run (the seed and passphrase beside them, in a 0600 file of the bench's own).
			const saved = JSON.parse(readFileSync(join(reuse, "bench.json"), "utf8"));
			files = { ...saved, seed: Buffer.from(saved.seed, "hex") };
			if (files.users !== users) throw new Error(`BENCH_IMPORT_DIR holds files of ${files.users} users, not ${users}`);
			process.stdout.write(`import files from ${reuse} (${users} users)\n`);
		} else {
			const dir = reuse ?? mkdtempSync(join(root, "files-"));
			mkdirSync(dir, { recursive: true, mode: 0o700 });
			process.stdout.write(`generating ${users}-user OATH CSV and PSKC files in ${dir}...\n`);
			const iterations = Number(process.env.BENCH_PSKC_ITERATIONS ?? 600_000);
			const generated = await writeImportFiles(dir, { users, iterations });
			files = { ...generated, users, iterations };
			writeFileSync(join(dir, "bench.json"), JSON.stringify({ ...files, seed: generated.seed.toString("hex") }), { mode: 0o600 });
		}
		// One-user files of each format (another user than the big files'), for the start-up probe.
		const oneDir = mkdtempSync(join(root, "one-"));
		files.oneCSV = join(oneDir, "one.oath.csv");
		files.onePSKC = join(oneDir, "one.pskc.xml");
		await writeOathCSV(files.oneCSV, { users: 1, seed: files.seed, start: users });
		await writePSKC(files.onePSKC, { users: 1, seed: files.seed, passphrase: files.passphrase, iterations: files.iterations, start: users });
		const passphraseFile = join(root, "passphrase");
		writeFileSync(passphraseFile, `${files.passphrase}\n`, { mode: 0o600 });

		for (const database of databases) {
			for (const format of formats) {
				// The fixed cost of a run (Node's start-up, opening the store, the PBKDF2 derivation, the job row): the same
				// command on a one-user file of the same format, on a fresh database of its own.
				const probe = await freshDatabase(database, root);
				let startup;
				try {
					const one = await runImport({ db: probe, format, file: format === "pskc" ? files.onePSKC : files.oneCSV, passphraseFile: format === "pskc" ? passphraseFile : undefined });
					if (one.code !== 0 || one.report.counts?.users_created !== 1) throw new Error(`the one-user ${format} import failed: ${JSON.stringify(one.report)}\n${one.stderr.slice(-2000)}`);
					startup = one.seconds;
				} finally {
					await probe.drop();
				}
				const db = await freshDatabase(database, root);
				try {
					const file = format === "pskc" ? files.pskc : files.csv;
					process.stdout.write(`import ${format} → ${database} (${((format === "pskc" ? files.pskcBytes : files.csvBytes) / 1e6).toFixed(0)} MB)... `);
					const run = await runImport({ db, format, file, passphraseFile: format === "pskc" ? passphraseFile : undefined });
					const counts = run.report.counts ?? {};
					const rate = (counts.users_created ?? 0) / run.seconds;
					const verified = run.code === 0 ? await verifySample({ db, seed: files.seed, users }) : "-";
					process.stdout.write(`exit ${run.code}, ${counts.users_created} users created in ${run.seconds.toFixed(1)} s, ${Math.round(rate)} users/s, peak RSS ${run.peakRSSMB.toFixed(0)} MB; ${run.load}\n`);
					if (run.code !== 0 || counts.users_created !== users || counts.invalid !== 0) {
						process.stdout.write(`  not every user was created: ${JSON.stringify({ status: run.report.status, counts, error: run.report.error, entries: run.report.entries?.slice(0, 3) })}\n`);
					}
					const target = TARGETS.usersPerSecond[database];
					rows.push({
						format,
						database,
						exit: run.code,
						created: counts.users_created,
						invalid: counts.invalid,
						"wall s": Number(run.seconds.toFixed(1)),
						"users/s": Math.round(rate),
						"start-up s": Number(startup.toFixed(1)),
						"users/s after start-up": Math.round((counts.users_created ?? 0) / Math.max(0.001, run.seconds - startup)),
						"target users/s": target,
						"rate / target": Number((rate / target).toFixed(2)),
						"peak RSS MB": Math.round(run.peakRSSMB),
						"RSS / 250 MB": Number((run.peakRSSMB / TARGETS.peakRSSMB).toFixed(2)),
						// The CLI process's user + system time: what sharing the machine distorts least (PostgreSQL's own CPU is not in it).
						"CPU s": Number(run.cpuSeconds.toFixed(1)),
						"users / CPU s": Math.round((counts.users_created ?? 0) / run.cpuSeconds),
						"sample verifies": verified,
						"load (1/5/15 min) at start": run.load.replace(/^load /, "").replace(/ on .*$/, ""),
					});
				} finally {
					await db.drop();
				}
			}
		}
		if (process.env.BENCH_ENROLL !== "0") {
			for (const database of databases) {
				process.stdout.write(`HTTP enroll (POST /v1/users/{id}/factors, ${enrollConnections} connections, ${seconds} s) → ${database}... `);
				const r = await enrollRate({ database, root, seconds, connections: enrollConnections });
				process.stdout.write(`${r.usersPerSecond.toFixed(1)} users/s; ${r.load}\n`);
				enrollRows.push({ database, "users/s": Number(r.usersPerSecond.toFixed(1)), non2xx: r.non2xx, errors: r.errors, "load at start": r.load.replace(/^load /, "").replace(/ on .*$/, "") });
			}
		}
	} finally {
		rmSync(root, { recursive: true, force: true });
	}
	console.log(`\nmachine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}; ${users} users a file; ${machineLoad()} at the end`);
	console.log(`twofold import (the CLI, its own process; wall clock from spawn to exit), targets: ${TARGETS.usersPerSecond.sqlite} users/s SQLite, ${TARGETS.usersPerSecond.postgres} PostgreSQL, peak RSS < ${TARGETS.peakRSSMB} MB:`);
	console.table(rows);
	if (enrollRows.length > 0) {
		console.log("today's way in, for comparison: HTTP enroll, a pending factor per request (TWOFOLD_RATE_LIMIT_ENROLL=0):");
		console.table(enrollRows);
		for (const r of rows) {
			const enroll = enrollRows.find((e) => e.database === r.database);
			if (enroll && enroll["users/s"] > 0) console.log(`import ${r.format} → ${r.database}: ${(r["users/s"] / enroll["users/s"]).toFixed(0)}× the HTTP enroll rate`);
		}
	}
	return { rows, enrollRows };
}

if (import.meta.url === `file://${process.argv[1]}`) await runImportBench();
