// A second yardstick (BENCH_DURABLE_BASELINE=1): the bare Fastify route, plus one durable SQLite commit per
// request (WAL, synchronous=FULL, a row inserted in its own transaction), answered after the commit. It shows
// what durability alone costs on this machine, next to the bare route the ratios are taken against.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import Fastify from "fastify";

const dir = mkdtempSync(join(tmpdir(), "twofold-durable-baseline-"));
const db = new Database(join(dir, "baseline.db"));
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.exec("create table attempts (id integer primary key, user_id text not null, code text not null, at integer not null)");
const insert = db.prepare("insert into attempts (user_id, code, at) values (?, ?, ?)");

const app = Fastify({ logger: false });
app.post("/v1/users/:user_id/verify", async (request) => {
	insert.run(request.params.user_id, String(request.body?.code), Date.now());
	return { valid: true, method: "totp", user: request.params.user_id };
});
const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`Server listening at ${address}\n`);
process.on("SIGTERM", () => app.close().then(() => { db.close(); rmSync(dir, { recursive: true, force: true }); process.exit(0); }));
