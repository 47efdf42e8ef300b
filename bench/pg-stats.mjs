// PostgreSQL's side of a verify (issue 19), measured around each round's correct-code load in BENCH_DATABASE=postgres:
// - pg_stat_statements, when loaded: PostgreSQL's own execution time per verify (the sum of total_exec_time of the
//   statements run in this database, divided by the verifies answered), statements per verify, and the statements
//   that took the most time. Reset before the load, read after it.
// - WAL bytes per verify: pg_wal_lsn_diff of pg_current_wal_lsn() after and before the load.
// - PostgreSQL's CPU per verify, when it runs on this machine: user + system time of every postgres process from
//   /proc, the postmaster's reaped children included (a backend that exits during the load still counts).
// All three are the whole database's (pg_stat_statements) or the whole cluster's (WAL, CPU): anything else running
// against it during the load counts too, so they mean something on a quiet machine only.
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";

const OWN_STATEMENTS = /pg_stat_statements|pg_current_wal_lsn/;
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]", ""]);

/** databaseURL: the bench schema's URL (its search_path is dropped: the extension lives in public). */
export async function pgStatistics(databaseURL) {
	const url = new URL(databaseURL);
	url.searchParams.delete("options");
	const client = new pg.Client({ connectionString: url.toString() });
	await client.connect();
	const preload = (await client.query("show shared_preload_libraries")).rows[0].shared_preload_libraries;
	const withStatements = preload.split(",").some((name) => name.trim() === "pg_stat_statements");
	if (withStatements) await client.query("create extension if not exists pg_stat_statements with schema public");
	const local = LOCAL_HOSTS.has(url.hostname);
	const lsn = async () => (await client.query("select pg_current_wal_lsn()::text as lsn")).rows[0].lsn;
	const rounds = [];
	const statementTotals = new Map();
	return {
		/** Runs a load (autocannon's result shape) between the two readings; returns its result unchanged. */
		async measure(run) {
			if (withStatements) await client.query("select pg_stat_statements_reset()");
			const lsnBefore = await lsn();
			const cpuBefore = local ? postgresCPUms() : undefined;
			const result = await run();
			const cpu = local ? postgresCPUms() - cpuBefore : undefined;
			const wal = Number((await client.query("select pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint as bytes", [lsnBefore])).rows[0].bytes);
			const verifies = Math.max(1, result["2xx"] + result.non2xx);
			const round = { verifies, walBytes: wal / verifies, cpuMs: cpu === undefined ? undefined : cpu / verifies };
			if (withStatements) {
				const { rows } = await client.query(
					"select query, calls::float8 as calls, total_exec_time from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())",
				);
				const mine = rows.filter((r) => !OWN_STATEMENTS.test(r.query));
				round.execMs = mine.reduce((sum, r) => sum + r.total_exec_time, 0) / verifies;
				round.calls = mine.reduce((sum, r) => sum + r.calls, 0) / verifies;
				for (const r of mine) {
					const total = statementTotals.get(r.query) ?? { calls: 0, ms: 0 };
					statementTotals.set(r.query, { calls: total.calls + r.calls, ms: total.ms + r.total_exec_time });
				}
			}
			rounds.push(round);
			process.stdout.write(`  PostgreSQL per verify: ${describe(round)}\n`);
			return result;
		},
		/** The per-round figures, their medians and (with pg_stat_statements) the top statements over all rounds. */
		report() {
			console.log(`PostgreSQL per verify (correct codes; the whole database's statements, the whole cluster's WAL and CPU):`);
			if (!withStatements) {
				console.log(
					`pg_stat_statements is not loaded (shared_preload_libraries = '${preload}'), so PostgreSQL's own time per verify is not shown: ` +
						`set shared_preload_libraries = 'pg_stat_statements' (postgresql.conf or ALTER SYSTEM) and restart PostgreSQL`,
				);
			}
			if (!local) console.log(`PostgreSQL's CPU is not shown: ${url.hostname} is not this machine`);
			if (rounds.length === 0) return;
			rounds.forEach((round, k) => console.log(`round ${k + 1}: ${describe(round)}`));
			const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
			const medians = Object.fromEntries(["execMs", "calls", "walBytes", "cpuMs"].map((key) => [key, rounds[0][key] === undefined ? undefined : median(rounds.map((r) => r[key]))]));
			console.log(`median of ${rounds.length} round(s): ${describe(medians)}`);
			if (statementTotals.size === 0) return;
			const verifies = rounds.reduce((sum, r) => sum + r.verifies, 0);
			const top = [...statementTotals].sort(([, a], [, b]) => b.ms - a.ms).slice(0, 8);
			const allMs = [...statementTotals.values()].reduce((sum, t) => sum + t.ms, 0);
			console.log(`top statements by PostgreSQL execution time (all rounds, ${verifies} verifies):`);
			console.table(
				top.map(([query, t]) => ({
					statement: query.replace(/\s+/g, " ").slice(0, 90),
					"calls/verify": Number((t.calls / verifies).toFixed(2)),
					"ms/call": Number((t.ms / t.calls).toFixed(4)),
					"ms/verify": Number((t.ms / verifies).toFixed(4)),
					share: `${((100 * t.ms) / allMs).toFixed(0)}%`,
				})),
			);
		},
		close: () => client.end(),
	};
}

function describe({ execMs, calls, walBytes, cpuMs }) {
	return [
		execMs === undefined ? undefined : `execution ${execMs.toFixed(3)} ms`,
		calls === undefined ? undefined : `${calls.toFixed(2)} statements`,
		`WAL ${walBytes.toFixed(0)} bytes`,
		cpuMs === undefined ? undefined : `PostgreSQL CPU ${cpuMs.toFixed(3)} ms`,
	]
		.filter((part) => part !== undefined)
		.join(", ");
}

/**
 * CPU time used so far by every postgres process on this machine, in ms: /proc/<pid>/stat utime + stime (fields 14
 * and 15, clock ticks of 10 ms), and for the postmaster also cutime + cstime (16 and 17), the time of the backends it
 * has reaped: the sum then never falls when a connection closes.
 */
function postgresCPUms() {
	let ticks = 0;
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		let stat;
		try {
			if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() !== "postgres") continue;
			stat = readFileSync(`/proc/${entry}/stat`, "utf8");
		} catch {
			continue; // exited meanwhile
		}
		const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
		ticks += Number(fields[11]) + Number(fields[12]);
		const parent = Number(fields[1]);
		let parentComm = "";
		try {
			parentComm = readFileSync(`/proc/${parent}/comm`, "utf8").trim();
		} catch {
			// no parent to read: not a backend
		}
		if (parentComm !== "postgres") ticks += Number(fields[13]) + Number(fields[14]);
	}
	return ticks * 10;
}
