import type { Kysely, QueryResult, SqliteDatabase } from "kysely";
import { registerDirectRunner } from "./prepared-query.js";
import type { Database } from "./tables.js";

type Work<T> = (db: Kysely<Database>) => Promise<T>;

interface Unit {
	work: Work<unknown>;
	resolve(value: unknown): void;
	reject(error: unknown): void;
}

/**
 * Group commit for the embedded SQLite store. With synchronous=FULL every
 * COMMIT waits for an fsync (D-1), which caps one-commit-per-request throughput
 * at the disk's fsync rate. Here transactions that arrive while a commit is in
 * flight are run together in the next one: each in its own SAVEPOINT, so one
 * unit's failure undoes only that unit, and every caller is answered only
 * after the shared COMMIT has returned (a 2xx still means durable).
 *
 * better-sqlite3 runs the COMMIT (and its fsync) synchronously, which blocks
 * the event loop: no request can join a batch while it commits. So a batch
 * starts one setImmediate after its first unit arrives, once the poll phase
 * has let every request that is already readable reach the queue.
 *
 * BEGIN IMMEDIATE takes the write lock up front, so another process on the
 * same file (the CLI while the server runs) waits on busy_timeout instead of
 * failing mid-transaction with SQLITE_BUSY.
 */
export class GroupCommit {
	readonly #db: Kysely<Database>;
	readonly #raw: SqliteDatabase;
	readonly #maxBatch: number;
	#queue: Unit[] = [];
	#draining = false;

	/** raw: the same connection Kysely uses, for statements run while the batch holds it. */
	constructor(db: Kysely<Database>, raw: SqliteDatabase, maxBatch = 128) {
		this.#db = db;
		this.#raw = raw;
		this.#maxBatch = maxBatch;
	}

	run<T>(work: Work<T>): Promise<T> {
		return new Promise<T>((resolve, reject) => {
			this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
			if (!this.#draining) {
				this.#draining = true;
				setImmediate(() => void this.#drain());
			}
		});
	}

	async #drain(): Promise<void> {
		try {
			while (this.#queue.length > 0) {
				const batch = this.#queue.splice(0, this.#maxBatch);
				await this.#runBatch(batch).catch((error: unknown) => {
					for (const unit of batch) unit.reject(error);
				});
			}
		} finally {
			this.#draining = false;
		}
	}

	async #runBatch(batch: Unit[]): Promise<void> {
		await this.#db.connection().execute(async (connection) => {
			// While this callback runs, Kysely's mutex gives the batch the one connection.
			const run = (sql: string, parameters: readonly unknown[] = []): QueryResult<unknown> => {
				const statement = this.#raw.prepare(sql);
				if (statement.reader) return { rows: statement.all(parameters) as unknown[] };
				return { rows: [], numAffectedRows: BigInt(statement.run(parameters).changes) };
			};
			registerDirectRunner(connection, run);
			run("begin immediate");
			const outcomes: { ok: boolean; value: unknown }[] = [];
			try {
				for (const unit of batch) {
					run("savepoint unit");
					try {
						const value = await unit.work(connection);
						run("release unit");
						outcomes.push({ ok: true, value });
					} catch (error) {
						run("rollback to unit");
						run("release unit");
						outcomes.push({ ok: false, value: error });
					}
				}
				run("commit");
			} catch (error) {
				try {
					run("rollback");
				} catch {
					// Nothing to roll back: the failure was BEGIN itself.
				}
				throw error;
			}
			batch.forEach((unit, index) => {
				const outcome = outcomes[index]!;
				if (outcome.ok) unit.resolve(outcome.value);
				else unit.reject(outcome.value);
			});
		});
	}
}
