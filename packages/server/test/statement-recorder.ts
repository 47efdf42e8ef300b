import { AsyncLocalStorage } from "node:async_hooks";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";

/**
 * Records the SQL text of every statement a piece of work sends to the database (issue 19): on PostgreSQL each
 * `query` on a pooled pg.Client is one round trip (BEGIN and COMMIT included; the extended protocol sends parse,
 * bind and execute together), on SQLite each run/get/all/iterate of a better-sqlite3 statement is one call into
 * the library (no round trip, counted as information). Test-only: it patches the two libraries' prototypes, so
 * production code carries no hook. Only work started inside `record()` is counted (AsyncLocalStorage follows it
 * through awaits and timers), so the webhook worker's polls and the sweepers stay out of a verify's count.
 * Only the SQL text is kept: parameters hold codes and secrets.
 */
export interface StatementRecorder {
	record<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }>;
	uninstall(): void;
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

export function installStatementRecorder(): StatementRecorder {
	const current = new AsyncLocalStorage<{ statements: string[]; open: boolean }>();
	const note = (text: unknown): void => {
		const window = current.getStore();
		if (window?.open === true) window.statements.push(String(text).replace(/\s+/g, " ").trim());
	};
	const restores: (() => void)[] = [];
	const wrap = (target: object, method: string, textOf: (self: unknown, args: unknown[]) => unknown): void => {
		const original = Reflect.get(target, method) as AnyFunction;
		Reflect.set(target, method, function (this: unknown, ...args: unknown[]) {
			note(textOf(this, args));
			return original.apply(this, args);
		});
		restores.push(() => Reflect.set(target, method, original));
	};
	// pg: query(text, values?, callback?) or query({ text, name, values }); dialects.ts names the hot statements.
	wrap(pg.Client.prototype, "query", (_self, [config]) => (typeof config === "string" ? config : (config as { text?: string }).text));
	// better-sqlite3's Statement class is reachable only through an instance.
	const probe = new BetterSqlite3(":memory:");
	const statementPrototype = Object.getPrototypeOf(probe.prepare("select 1")) as object;
	probe.close();
	for (const method of ["run", "get", "all", "iterate"]) wrap(statementPrototype, method, (self) => (self as { source: string }).source);
	return {
		async record(work) {
			const window = { statements: [] as string[], open: true };
			const result = await current.run(window, work);
			// Work the call left behind (a timer, a later turn) is not this call's.
			window.open = false;
			return { result, statements: window.statements };
		},
		uninstall() {
			for (const restore of restores.reverse()) restore();
		},
	};
}
