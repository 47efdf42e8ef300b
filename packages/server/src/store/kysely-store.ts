import { type DatabaseIntrospector, type Kysely, Migrator, sql } from "kysely";
import { checkDurability, createKysely, type DatabaseLocation, type DialectName } from "./dialects.js";
import { GroupCommit } from "./group-commit.js";
import { registerDirectRunner } from "./prepared-query.js";
import { migrationProvider } from "./migrations/index.js";
import { apiKeyRepository } from "./repositories/api-keys.js";
import { challengeRepository } from "./repositories/challenges.js";
import { clientRepository } from "./repositories/clients.js";
import { oidcPayloadRepository } from "./repositories/oidc-payloads.js";
import { eventRepository } from "./repositories/events.js";
import { factorRepository } from "./repositories/factors.js";
import { importJobRepository } from "./repositories/imports.js";
import { operatorRepository } from "./repositories/operators.js";
import { consoleSessionRepository } from "./repositories/console-sessions.js";
import { userDirectoryRepository } from "./repositories/user-directory.js";
import { rollupRepository } from "./repositories/rollups.js";
import { logoRepository } from "./repositories/logos.js";
import { promptSessionRepository } from "./repositories/prompt-sessions.js";
import { recoveryCodeRepository } from "./repositories/recovery-codes.js";
import { recoveryRequestRepository } from "./repositories/recovery-requests.js";
import { redeemedAssertionRepository } from "./repositories/redeemed-assertions.js";
import { sealedSecretRepository } from "./repositories/sealed-secrets.js";
import { signingKeyRepository } from "./repositories/signing-keys.js";
import { webhookDeliveryRepository, webhookRepository } from "./repositories/webhooks.js";
import { tenantRepository } from "./repositories/tenants.js";
import { userRepository } from "./repositories/users.js";
import { webauthnCredentialRepository } from "./repositories/webauthn-credentials.js";
import type { Store } from "./store.js";
import type { Database } from "./tables.js";

/** The store plus what only the process owner does with it. */
export interface StoreHandle extends Store {
	migrate(): Promise<string[]>;
	checkDurability(): Promise<void>;
	ping(): Promise<void>;
	/** The database server's clock in ms since the epoch (PostgreSQL), or null when it has none of its own (SQLite). */
	databaseTime(): Promise<number | null>;
	close(): Promise<void>;
}

type Runner = <T>(fn: (tx: Store) => Promise<T>) => Promise<T>;

/**
 * The repositories over one connection (or transaction), each made on first use: a verify's transaction
 * touches four of the thirteen, and a transaction is made per request, so the rest are never built.
 */
class BoundStore implements Store {
	#tenants?: Store["tenants"];
	#apiKeys?: Store["apiKeys"];
	#users?: Store["users"];
	#factors?: Store["factors"];
	#recoveryCodes?: Store["recoveryCodes"];
	#webauthnCredentials?: Store["webauthnCredentials"];
	#challenges?: Store["challenges"];
	#events?: Store["events"];
	#signingKeys?: Store["signingKeys"];
	#redeemedAssertions?: Store["redeemedAssertions"];
	#webhooks?: Store["webhooks"];
	#webhookDeliveries?: Store["webhookDeliveries"];
	#sealedSecrets?: Store["sealedSecrets"];
	#logos?: Store["logos"];
	#recoveryRequests?: Store["recoveryRequests"];
	#clients?: Store["clients"];
	#oidcPayloads?: Store["oidcPayloads"];
	#promptSessions?: Store["promptSessions"];
	#importJobs?: Store["importJobs"];
	#operators?: Store["operators"];
	#consoleSessions?: Store["consoleSessions"];
	#userDirectory?: Store["userDirectory"];
	#rollups?: Store["rollups"];

	constructor(
		private readonly db: Kysely<Database>,
		readonly dialect: DialectName,
		readonly transaction: Runner,
		readonly afterCommit: Store["afterCommit"],
	) {}

	get logos() {
		return (this.#logos ??= logoRepository(this.db));
	}
	get recoveryRequests() {
		return (this.#recoveryRequests ??= recoveryRequestRepository(this.db));
	}
	get tenants() {
		return (this.#tenants ??= tenantRepository(this.db, this.dialect));
	}
	get apiKeys() {
		return (this.#apiKeys ??= apiKeyRepository(this.db));
	}
	get users() {
		return (this.#users ??= userRepository(this.db, this.dialect));
	}
	get factors() {
		return (this.#factors ??= factorRepository(this.db, this.dialect));
	}
	get recoveryCodes() {
		return (this.#recoveryCodes ??= recoveryCodeRepository(this.db));
	}
	get webauthnCredentials() {
		return (this.#webauthnCredentials ??= webauthnCredentialRepository(this.db));
	}
	get challenges() {
		return (this.#challenges ??= challengeRepository(this.db));
	}
	get events() {
		return (this.#events ??= eventRepository(this.db));
	}
	get signingKeys() {
		return (this.#signingKeys ??= signingKeyRepository(this.db));
	}
	get redeemedAssertions() {
		return (this.#redeemedAssertions ??= redeemedAssertionRepository(this.db));
	}
	get webhooks() {
		return (this.#webhooks ??= webhookRepository(this.db));
	}
	get webhookDeliveries() {
		return (this.#webhookDeliveries ??= webhookDeliveryRepository(this.db, this.dialect));
	}
	get sealedSecrets() {
		return (this.#sealedSecrets ??= sealedSecretRepository(this.db));
	}
	get clients() {
		return (this.#clients ??= clientRepository(this.db));
	}
	get oidcPayloads() {
		return (this.#oidcPayloads ??= oidcPayloadRepository(this.db));
	}
	get promptSessions() {
		return (this.#promptSessions ??= promptSessionRepository(this.db));
	}
	get importJobs() {
		return (this.#importJobs ??= importJobRepository(this.db));
	}
	get operators() {
		return (this.#operators ??= operatorRepository(this.db));
	}
	get consoleSessions() {
		return (this.#consoleSessions ??= consoleSessionRepository(this.db));
	}
	get userDirectory() {
		return (this.#userDirectory ??= userDirectoryRepository(this.db, this.dialect));
	}
	get rollups() {
		return (this.#rollups ??= rollupRepository(this.db, this.dialect));
	}
}

/** Inside a transaction, a nested transaction is the same one, and its after-commit callbacks join the outer one's. */
function boundTo(db: Kysely<Database>, dialect: DialectName, committed: (() => void)[]): Store {
	const store: Store = new BoundStore(db, dialect, (fn) => fn(store), (fn) => void committed.push(fn));
	return store;
}

/**
 * A transaction with its own after-commit list: run resolves only once the commit is durable (a throw means rolled
 * back), so the callbacks run then and only then. One array per transaction, nothing more on the hot path.
 */
async function committing<T>(run: (committed: (() => void)[]) => Promise<T>): Promise<T> {
	const committed: (() => void)[] = [];
	const result = await run(committed);
	for (const fn of committed) {
		try {
			fn();
		} catch (error) {
			// The work is durable and a 2xx must say so: an after-commit callback's failure is reported, never turned
			// into an error for a committed transaction (a spent code answered 500).
			process.emitWarning(`an after-commit callback failed: ${error instanceof Error ? error.message : String(error)}`, "AfterCommitWarning");
		}
	}
	return result;
}

/**
 * The database as Kysely's migrator sees it on PostgreSQL: the same connection pool, but its table lookup reads only
 * our schema. Kysely's own introspector reads every schema of the database and checks the privileges on each by
 * name, so a schema another deployment (or test run) drops at that moment fails our start with "schema … does not
 * exist" (test/migrate-beside-other-schemas.test.ts). The migrator asks the introspector only whether its two
 * tables exist.
 */
function scopedToSchema(db: Kysely<Database>, schema: string): Kysely<Database> {
	const introspection: DatabaseIntrospector = {
		async getTables() {
			const { rows } = await sql<{ name: string }>`select c.relname as name from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
				where n.nspname = ${schema} and c.relkind in ('r', 'p', 'v')`.execute(db);
			return rows.map((row) => ({ name: row.name, schema, isView: false, columns: [] }));
		},
		getSchemas: () => Promise.resolve([{ name: schema }]),
		async getMetadata() {
			return { tables: await this.getTables() };
		},
	};
	// Methods are bound to the real instance: Kysely keeps its state in private fields.
	return new Proxy(db, {
		get(target, property) {
			if (property === "introspection") return introspection;
			const value: unknown = Reflect.get(target, property, target);
			return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		},
	});
}

export function openStore(location: DatabaseLocation): StoreHandle {
	const { db, dialect, sqlite, sqliteReader, readSnapshot } = createKysely(location);
	if (sqliteReader !== undefined && readSnapshot !== undefined) {
		registerDirectRunner(db, (text, parameters) => {
			const statement = sqliteReader.prepare(text);
			if (!statement.reader) return undefined;
			readSnapshot.enter();
			return { rows: statement.all(parameters) as unknown[] };
		});
	}
	let transaction: Runner;
	if (sqlite !== undefined) {
		const group = new GroupCommit(db, sqlite);
		// The group answers each unit only after the shared COMMIT, and rejects a unit rolled back to its savepoint.
		transaction = (fn) => committing((committed) => group.run((connection) => fn(boundTo(connection, dialect, committed))));
	} else {
		transaction = (fn) => committing((committed) => db.transaction().execute((trx) => fn(boundTo(trx, dialect, committed))));
	}
	// Assigned onto the store, not spread from it: a spread would read (and so build) every repository.
	// Outside a transaction each statement commits as it runs: what follows it may run at once.
	return Object.assign(new BoundStore(db, dialect, transaction, (fn) => fn()), {
		async migrate() {
			// Kysely looks for its own tables by name across every schema it can see; pin them to ours
			// so two deployments (or test runs) in one PostgreSQL database do not see each other's.
			const schema =
				dialect === "postgres" ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
			const migrator = new Migrator({
				db: schema === undefined ? db : scopedToSchema(db, schema),
				provider: migrationProvider(dialect),
				...(schema === undefined ? {} : { migrationTableSchema: schema }),
			});
			const { error, results } = await migrator.migrateToLatest();
			if (error !== undefined) throw error;
			return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
		},
		checkDurability: () => checkDurability(db, dialect),
		async ping() {
			await sql`select 1`.execute(db);
		},
		async databaseTime() {
			// SQLite runs inside this process: its clock is ours, so there is nothing to compare with.
			if (dialect !== "postgres") return null;
			const { rows } = await sql<{ ms: string }>`select floor(extract(epoch from clock_timestamp()) * 1000)::bigint as ms`.execute(db);
			return Number(rows[0]!.ms);
		},
		async close() {
			await db.destroy();
			readSnapshot?.invalidate();
			sqliteReader?.close();
		},
	});
}
