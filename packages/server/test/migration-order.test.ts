import { describe, expect, it } from "vitest";
import { migrationProvider } from "../src/store/migrations/index.js";

/**
 * Kysely runs migrations in the order of their names and refuses a database whose run migrations are not all before
 * the ones it has not run: a new migration whose name sorts before one an installation already ran would stop that
 * installation at start-up. The names below exist in some database already (main, 2026-12-03); every later one must
 * sort after the last of them (and joins this list once it is on main).
 */
const ON_MAIN = [
	"2026-11-23-001-initial",
	"2026-11-23-002-webauthn",
	"2026-11-23-003-assertions",
	"2026-11-23-004-webhooks",
	"2026-11-23-005-user-email",
	"2026-11-29-attest-webauthn-attestation",
	"2026-11-29-lock-recorded-lock",
	"2026-12-02-api-key-last-used",
	"2026-12-02-logos",
	"2026-12-02-recovery-requests",
	"2026-12-02-oidc",
	"2026-12-02-prompt-sessions",
	"2026-12-03-prompt-email-challenge",
	"2026-12-03-imports",
	"2026-12-03-verify-decision",
	"2026-12-04-001-operators",
	"2026-12-04-002-console-sessions",
	"2026-12-04-003-event-actors",
	"2026-12-05-001-event-rollups",
];

describe("migration names", () => {
	it("keep every migration on main, and a new one sorts after all of them", async () => {
		const names = Object.keys(await migrationProvider("sqlite").getMigrations());
		for (const name of ON_MAIN) expect(names).toContain(name);
		const last = [...ON_MAIN].sort().at(-1)!;
		for (const name of names.filter((n) => !ON_MAIN.includes(n))) expect(name > last, `${name} sorts before ${last}`).toBe(true);
	});
});
