import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase, sql } from "kysely";
import pg from "pg";
import { preparedStatementName } from "./prepared-query.js";
import { ReadSnapshot } from "./read-snapshot.js";
import { withStatementCache } from "./statement-cache.js";
import type { Database } from "./tables.js";

export type DialectName = "sqlite" | "postgres";

export interface DatabaseLocation {
	/** postgres://… ; absent means the embedded SQLite file. */
	databaseURL?: string;
	sqlitePath: string;
}

export class DurabilityError extends Error {
	override readonly name = "DurabilityError";
}

/** pg returns int8 (our millisecond times, counts) as strings; every value we store fits a double exactly. */
const INT8_OID = 20;
const pgTypes = {
	getTypeParser: ((oid: number, format?: "text" | "binary") =>
		oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface OpenedDatabase {
	db: Kysely<Database>;
	dialect: DialectName;
	/** SQLite only: the connection Kysely drives, for group-commit batches that hold it. */
	sqlite?: SqliteDatabase;
	/** SQLite only: a second, query-only connection for reads outside transactions. */
	sqliteReader?: SqliteDatabase;
	/** SQLite only: the reader's per-turn read transaction; enter() before each read. */
	readSnapshot?: ReadSnapshot;
}

export function createKysely(location: DatabaseLocation): OpenedDatabase {
	if (location.databaseURL !== undefined) {
		const pool = new pg.Pool({ connectionString: location.databaseURL, types: pgTypes, max: 10 });
		pool.on("connect", (client) => nameHotStatements(client));
		return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: "postgres" };
	}
	const database = new BetterSqlite3(location.sqlitePath);
	// D-1: WAL with synchronous=FULL, so a COMMIT survives power loss; NORMAL may roll it back.
	database.pragma("journal_mode = WAL");
	database.pragma("synchronous = FULL");
	database.pragma("busy_timeout = 5000");
	// SQLite's default page cache is 2 MB; past a few thousand users every lookup then goes to the
	// OS for pages. 32 MiB keeps the hot index pages in the process; 64 MiB measured no faster with
	// 400k users (the OS page cache serves the rest) and cost 32 MB of peak RSS (ADR 0005).
	database.pragma("cache_size = -32768");
	database.pragma("foreign_keys = ON");
	// WAL lets a second connection read the last committed state while the writer works, which is
	// what a read outside a transaction should see; it no longer waits for a batch to release the writer.
	const reader = new BetterSqlite3(location.sqlitePath);
	reader.pragma("busy_timeout = 5000");
	reader.pragma("cache_size = -16384");
	reader.pragma("query_only = ON");
	const readSnapshot = new ReadSnapshot(reader);
	// Every write on the writer (a batch's COMMIT included) ends the reader's snapshot before the writer's caller is answered.
	const cached = withStatementCache(database, () => readSnapshot.invalidate());
	const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
	return { db, dialect: "sqlite", sqlite: cached, sqliteReader: withStatementCache(reader), readSnapshot };
}

/** Kysely sends SQL text and values; for the hot-path statements, the client sends them as named statements instead. */
function nameHotStatements(client: pg.PoolClient): void {
	const query = client.query.bind(client) as (...args: unknown[]) => unknown;
	(client as unknown as { query: (...args: unknown[]) => unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
		const name = typeof config === "string" ? preparedStatementName(config) : undefined;
		if (name !== undefined && Array.isArray(values)) return query({ name, text: config, values }, callback);
		return callback === undefined ? (values === undefined ? query(config) : query(config, values)) : query(config, values, callback);
	};
}

/** Refuses to run on settings that can lose acknowledged commits (D-1). */
export async function checkDurability(db: Kysely<Database>, dialect: DialectName): Promise<void> {
	if (dialect === "sqlite") {
		const { rows: journal } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
		const { rows: sync } = await sql<{ synchronous: number }>`pragma synchronous`.execute(db);
		if (journal[0]?.journal_mode !== "wal") throw new DurabilityError("SQLite is not in WAL mode");
		// 2 = FULL, 3 = EXTRA; 0 (OFF) and 1 (NORMAL) can lose committed transactions.
		if ((sync[0]?.synchronous ?? 0) < 2) throw new DurabilityError("SQLite synchronous is below FULL");
		return;
	}
	const { rows: commit } = await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(db);
	const { rows: fsync } = await sql<{ fsync: string }>`show fsync`.execute(db);
	if (commit[0]?.synchronous_commit === "off") {
		throw new DurabilityError("PostgreSQL synchronous_commit is off: acknowledged commits could be lost");
	}
	if (fsync[0]?.fsync !== "on") throw new DurabilityError("PostgreSQL fsync is off");
}
