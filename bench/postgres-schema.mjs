import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * A fresh PostgreSQL schema for one bench run (BENCH_DATABASE_URL, else the CI database), named `${prefix}_<random>`:
 * the URL that puts Twofold's tables in it, and `drop()` to remove it with everything in it afterwards.
 */
export async function postgresSchema(prefix) {
	const base = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
	const schema = `${prefix}_${randomBytes(6).toString("hex")}`;
	const run = async (statement) => {
		const client = new pg.Client({ connectionString: base });
		await client.connect();
		try {
			await client.query(statement);
		} finally {
			await client.end();
		}
	};
	await run(`create schema ${schema}`);
	const url = new URL(base);
	url.searchParams.set("options", `-c search_path=${schema}`);
	return { url: url.toString(), drop: () => run(`drop schema ${schema} cascade`) };
}
