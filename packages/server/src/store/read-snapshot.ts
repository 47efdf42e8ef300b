import type BetterSqlite3 from "better-sqlite3";

/**
 * One read transaction per event-loop turn on the query-only SQLite reader.
 *
 * Every read transaction in WAL mode takes and releases a shared-memory lock, two
 * fcntl calls; on these VMs a system call costs microseconds, and an authenticated
 * request reads at least once (the API key). So the first read of a turn opens a
 * read transaction and later reads of the same turn share it.
 *
 * Read-your-writes still holds, because the snapshot never outlives a commit of
 * this process: the group commit and every write outside it call invalidate()
 * right after committing, before anyone is told of the write, so a read that
 * follows a write opens a fresh snapshot. Writes by another process (the CLI) are
 * seen from the next turn: the snapshot ends in the check phase of the turn that
 * opened it (setImmediate), at most one turn after it began.
 */
export class ReadSnapshot {
	readonly #begin: BetterSqlite3.Statement;
	readonly #commit: BetterSqlite3.Statement;
	#open = false;

	constructor(reader: BetterSqlite3.Database) {
		this.#begin = reader.prepare("begin");
		this.#commit = reader.prepare("commit");
	}

	/** Call before each read on the reader connection. */
	enter(): void {
		if (this.#open) return;
		this.#begin.run();
		this.#open = true;
		setImmediate(() => this.invalidate());
	}

	/** Ends the current snapshot, if any; the next read starts a new one. */
	invalidate(): void {
		if (!this.#open) return;
		this.#open = false;
		this.#commit.run();
	}
}
