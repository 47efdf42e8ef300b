// Bulk-enrolls N users with active TOTP factors straight into the database, so the
// benchmark measures verification only. Secrets are derived from a bench-only seed
// (HMAC(seed, user)) so the load generator can compute each user's current code;
// they are sealed exactly as the service seals them.
import { createHmac, randomBytes } from "node:crypto";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { createApp, nodeRandom } from "../packages/server/dist/app.js";
import { loadConfig } from "../packages/server/dist/config.js";
import { createKeyring } from "../packages/server/dist/core/keyring.js";
import { sealFactorSecret } from "../packages/server/dist/factors/factor-secret.js";

export const benchSecret = (seed, index) => createHmac("sha256", seed).update(`user-${index}`).digest().subarray(0, 20);

/** databaseURL: a postgres:// URL (with its search_path), or undefined for SQLite in dataDir. */
export async function seed({ dataDir, databaseURL, masterKeyBase64, users, secretSeed }) {
	const config = loadConfig(
		{ TWOFOLD_DATA_DIR: dataDir, TWOFOLD_MASTER_KEY: masterKeyBase64, TWOFOLD_LOG_LEVEL: "silent", ...(databaseURL ? { TWOFOLD_DATABASE_URL: databaseURL } : {}) },
		process.cwd(),
	);
	const app = await createApp(config);
	const { tenant, apiKey } = await app.services.tenants.create("bench");
	// A second tenant, which enrolls while the first verifies (bench/enroll-interference.mjs).
	const enroller = await app.services.tenants.create("bench-enroller");
	await app.close();
	const keyring = createKeyring([Buffer.from(masterKeyBase64, "base64")]);
	const now = Date.now();
	const row = (i) => {
		const userId = `user-${i}`;
		const id = `fac_${randomBytes(16).toString("hex").slice(0, 26)}`;
		return { userId, id, envelope: sealFactorSecret(keyring, nodeRandom, { tenant_id: tenant.id, user_id: userId, id }, benchSecret(secretSeed, i)) };
	};
	if (databaseURL === undefined) {
		const db = new BetterSqlite3(config.sqlitePath);
		db.pragma("journal_mode = WAL");
		const insertUser = db.prepare("insert into users (tenant_id, id, created_at, failed_attempts, next_attempt_at) values (?, ?, ?, 0, 0)");
		const insertFactor = db.prepare(
			"insert into factors (id, tenant_id, user_id, type, status, label, secret_envelope, algorithm, digits, period, last_used_step, created_at, activated_at) values (?, ?, ?, 'totp', 'active', ?, ?, 'SHA1', 6, 30, -1, ?, ?)",
		);
		db.transaction(() => {
			for (let i = 0; i < users; i++) {
				const { userId, id, envelope } = row(i);
				insertUser.run(tenant.id, userId, now);
				insertFactor.run(id, tenant.id, userId, userId, envelope, now, now);
			}
		})();
		db.close();
	} else {
		const client = new pg.Client({ connectionString: databaseURL });
		await client.connect();
		try {
			for (let start = 0; start < users; start += 5000) {
				const rows = Array.from({ length: Math.min(5000, users - start) }, (_, k) => row(start + k));
				await client.query("begin");
				await client.query("insert into users (tenant_id, id, created_at, failed_attempts, next_attempt_at) select $1, unnest($2::text[]), $3, 0, 0", [
					tenant.id,
					rows.map((r) => r.userId),
					now,
				]);
				await client.query(
					"insert into factors (id, tenant_id, user_id, type, status, label, secret_envelope, algorithm, digits, period, last_used_step, created_at, activated_at) " +
						"select f.id, $1, f.user_id, 'totp', 'active', f.user_id, f.envelope, 'SHA1', 6, 30, -1, $2, $2 from unnest($3::text[], $4::text[], $5::text[]) as f(id, user_id, envelope)",
					[tenant.id, now, rows.map((r) => r.id), rows.map((r) => r.userId), rows.map((r) => r.envelope)],
				);
				await client.query("commit");
			}
			await client.query("analyze");
		} finally {
			await client.end();
		}
	}
	return { apiKey, enrollerApiKey: enroller.apiKey };
}
