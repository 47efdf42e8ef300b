import pg from "pg";
import { describe, expect, it } from "vitest";
import { openStore } from "../src/store/kysely-store.js";
import { createPostgresSchema, PG_URL, POSTGRES_AVAILABLE } from "./helpers.js";

/**
 * Several deployments (or test runs) may share one PostgreSQL database, each in its own schema. Starting one must
 * not depend on what the others do: a migrate that looked at every schema of the database (Kysely's introspector
 * checks each one's privileges) failed with "schema … does not exist" when another schema was dropped at that
 * moment, and the server did not start (seen as a crash-loop test failure while other suites dropped theirs).
 */
describe.runIf(POSTGRES_AVAILABLE)("migrate beside other schemas (postgres)", () => {
	it("succeeds while other schemas of the database are created and dropped", async () => {
		const own = await createPostgresSchema();
		const churn = new pg.Client({ connectionString: PG_URL });
		await churn.connect();
		let stop = false;
		let churned = 0;
		const others = (async () => {
			while (!stop) {
				const name = `churn_${process.pid}_${churned % 4}`;
				await churn.query(`create schema if not exists ${name}`);
				await churn.query(`create table if not exists ${name}.t (id int)`);
				await churn.query(`drop schema ${name} cascade`);
				churned++;
			}
		})();
		try {
			for (let run = 0; run < 40; run++) {
				const store = openStore({ databaseURL: own.url, sqlitePath: "" });
				try {
					await store.migrate();
				} finally {
					await store.close();
				}
			}
		} finally {
			stop = true;
			await others;
			await churn.end();
			await own.drop();
		}
		expect(churned).toBeGreaterThan(40);
	}, 120_000);
});
