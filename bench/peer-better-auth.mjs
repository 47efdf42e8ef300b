// A peer in the benchmark (issue 19): better-auth with its twoFactor plugin, the likeliest alternative a user would
// weigh that runs here without a network. Its own process, like bench/baseline.mjs, printing "Server listening at …"
// for bench/run.mjs's start(). Mounted as better-auth's Node integration page shows it: Express, a catch-all
// /api/auth route, toNodeHandler(auth). Its data lives in a SQLite file (better-sqlite3, through better-auth's Kysely
// adapter) in a temp dir of its own, removed when the process ends.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { twoFactor } from "better-auth/plugins/two-factor";
import Database from "better-sqlite3";
import express from "express";

const dataDir = mkdtempSync(join(tmpdir(), "twofold-peer-better-auth-"));
const database = new Database(join(dataDir, "better-auth.sqlite"));
// As close to Twofold's store as better-auth lets a user come (packages/server/src/store/dialects.ts): WAL, and every
// commit on disk before its answer, so an accepted code or a consumed two-factor cookie survives a power cut.
database.pragma("journal_mode = WAL");
database.pragma("synchronous = FULL");
database.pragma("busy_timeout = 5000");

const options = {
	appName: "Twofold bench peer",
	// A fresh signing and encryption secret per run: the prepared cookies never outlive the process.
	secret: randomBytes(32).toString("base64"),
	database,
	emailAndPassword: { enabled: true },
	plugins: [
		twoFactor({
			// A pending sign-in lives 10 minutes by default; the bench prepares every round's cookies before the rounds
			// and a run with the prompt and several rounds takes longer than that. Only the cookie's lifetime changes.
			twoFactorCookieMaxAge: Number(process.env.PEER_TWO_FACTOR_COOKIE_SECONDS ?? 3600),
		}),
	],
	// Off: every request of the load comes from 127.0.0.1, and the plugin's own rule (3 requests per 10 s on
	// /two-factor/*, per address) would answer 429 to almost all of them, which measures the limiter, not a verify.
	// Twofold's bench meets no per-address limit on verify either (its budget is per user, as better-auth's lockout).
	rateLimit: { enabled: false },
	telemetry: { enabled: false },
	logger: { level: "error" },
};

const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);

const app = express();
app.all("/api/auth/*splat", toNodeHandler(auth));
const server = app.listen(0, "127.0.0.1", () => process.stdout.write(`Server listening at http://127.0.0.1:${server.address().port}\n`));
process.on("SIGTERM", () =>
	server.close(() => {
		database.close();
		rmSync(dataDir, { recursive: true, force: true });
		process.exit(0);
	}),
);
