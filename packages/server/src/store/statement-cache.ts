import type BetterSqlite3 from "better-sqlite3";
import type { SqliteDatabase } from "kysely";

/**
 * Kysely's SQLite driver calls prepare() for every query, and preparing costs
 * more than running our small statements. Kysely emits the same SQL text for
 * the same query shape (values are bound parameters), so statements are cached
 * by text. The bound keeps a runaway set of shapes from growing without limit.
 */
const MAX_STATEMENTS = 500;

/** afterWrite: called after every statement that is not a read has run (see read-snapshot.ts). */
export function withStatementCache(database: BetterSqlite3.Database, afterWrite?: () => void): SqliteDatabase {
	const cache = new Map<string, BetterSqlite3.Statement>();
	return {
		close: () => database.close(),
		prepare(sql: string) {
			let statement = cache.get(sql);
			if (statement === undefined) {
				statement = database.prepare(sql);
				if (afterWrite !== undefined && !statement.reader) notifyAfterRun(statement, afterWrite);
				if (cache.size >= MAX_STATEMENTS) cache.delete(cache.keys().next().value!);
				cache.set(sql, statement);
			}
			return statement;
		},
	} as SqliteDatabase;
}

function notifyAfterRun(statement: BetterSqlite3.Statement, afterWrite: () => void): void {
	const run = statement.run.bind(statement);
	statement.run = ((...parameters: unknown[]) => {
		try {
			return run(...parameters);
		} finally {
			afterWrite();
		}
	}) as typeof statement.run;
}
