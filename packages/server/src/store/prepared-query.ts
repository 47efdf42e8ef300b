import { type Compilable, CompiledQuery, type Kysely, type QueryResult } from "kysely";
import type { Database } from "./tables.js";

type Slot = { arg: number } | { value: unknown };

/**
 * Runs SQL synchronously on a SQLite connection: one a group-commit batch
 * owns, or the read-only connection for reads outside transactions. Returns
 * undefined for a statement it does not take (a write, on the reader).
 */
export type DirectRunner = (sql: string, parameters: readonly unknown[]) => QueryResult<unknown> | undefined;

// Kysely instances whose SQLite statements may run directly.
const directRunners = new WeakMap<object, DirectRunner>();

export function registerDirectRunner(db: Kysely<Database>, runner: DirectRunner): void {
	directRunners.set(db, runner);
}
/**
 * PostgreSQL names each hot-path statement (see dialects.ts), so a connection
 * parses and plans it once instead of on every call: unnamed, the planning
 * of these few statements cost PostgreSQL more CPU than running them. Only
 * these, whose column lists are explicit, so a later migration cannot change
 * a prepared statement's result type under it.
 */
const statementNames = new Map<string, string>();

/** The name of a hot-path statement's SQL text, or undefined for any other SQL. */
export function preparedStatementName(sql: string): string | undefined {
	return statementNames.get(sql);
}

/**
 * Names one hand-written hot-path statement (a function call whose text never changes, such as the verify's
 * decision, ADR 0009) as preparedQuery names its templates; returns the text.
 */
export function nameStatement(sql: string): string {
	if (!statementNames.has(sql)) statementNames.set(sql, `twofold_${statementNames.size + 1}`);
	return sql;
}

interface Template {
	sql: string;
	slots: Slot[];
}

/**
 * A hot-path query built with Kysely once per dialect and afterwards only bound
 * to new values: building and compiling a query costs more than running it.
 * The first call builds the query with marker arguments, records where each
 * argument lands among the compiled parameters, and caches the SQL text; later
 * calls send that text with the arguments in those positions. One definition
 * still serves both dialects, since each dialect compiles its own template.
 * Inside a SQLite batch, which owns the connection, the statement runs
 * directly, without Kysely's per-query executor and connection machinery.
 */
export function preparedQuery<Args extends unknown[], Row>(
	build: (db: Kysely<Database>, ...args: Args) => Compilable<Row>,
): (db: Kysely<Database>, ...args: Args) => Promise<QueryResult<Row>> {
	// Keyed by the dialect adapter, which every connection and transaction of one database shares.
	const templates = new WeakMap<object, Template>();
	return (db, ...args) => {
		const adapter = db.getExecutor().adapter;
		let template = templates.get(adapter);
		if (template === undefined) {
			const markers = args.map((_, index) => `\u0000twofold-argument-${index}\u0000`);
			const compiled = build(db, ...(markers as unknown as Args)).compile();
			const slots = compiled.parameters.map((value): Slot => {
				const index = markers.indexOf(value as string);
				return index === -1 ? { value } : { arg: index };
			});
			// An argument the builder turned into SQL text instead of a parameter would be frozen into the template.
			if (!markers.every((_, index) => slots.some((slot) => "arg" in slot && slot.arg === index))) {
				throw new TypeError("preparedQuery: every argument must reach the query as a bound parameter");
			}
			template = { sql: compiled.sql, slots };
			if (!statementNames.has(compiled.sql)) statementNames.set(compiled.sql, `twofold_${statementNames.size + 1}`);
			templates.set(adapter, template);
		}
		const parameters = template.slots.map((slot) => ("arg" in slot ? args[slot.arg] : slot.value));
		const direct = directRunners.get(db);
		const result = direct?.(template.sql, parameters);
		if (result !== undefined) return Promise.resolve(result as QueryResult<Row>);
		return db.executeQuery<Row>(CompiledQuery.raw(template.sql, parameters));
	};
}
