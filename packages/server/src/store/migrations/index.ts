import type { Kysely, Migration, MigrationProvider } from "kysely";
import * as initial from "./2026-11-23-001-initial.js";
import * as webauthn from "./2026-11-23-002-webauthn.js";
import * as assertions from "./2026-11-23-003-assertions.js";
import * as webhooks from "./2026-11-23-004-webhooks.js";
import * as userEmail from "./2026-11-23-005-user-email.js";
import * as attestWebauthnAttestation from "./2026-11-29-attest-webauthn-attestation.js";
import * as recordedLock from "./2026-11-29-lock-recorded-lock.js";
import * as apiKeyLastUsed from "./2026-12-02-api-key-last-used.js";
import * as logos from "./2026-12-02-logos.js";
import * as recoveryRequests from "./2026-12-02-recovery-requests.js";
import * as oidc from "./2026-12-02-oidc.js";
import * as promptSessions from "./2026-12-02-prompt-sessions.js";
import * as promptEmailChallenge from "./2026-12-03-prompt-email-challenge.js";
import * as imports from "./2026-12-03-imports.js";
import * as attemptDecision from "./2026-12-03-verify-decision.js";
import * as operators from "./2026-12-04-001-operators.js";
import * as consoleSessions from "./2026-12-04-002-console-sessions.js";
import * as eventActors from "./2026-12-04-003-event-actors.js";
import * as eventRollups from "./2026-12-05-001-event-rollups.js";

type DialectName = "sqlite" | "postgres";
type FrozenMigration = { up(db: Kysely<any>, dialect: DialectName): Promise<void> };

// Statically imported and ordered by name: no directory scan, so bundles and tests see the same set.
const MIGRATIONS: Record<string, FrozenMigration> = {
	"2026-11-23-001-initial": initial,
	"2026-11-23-002-webauthn": webauthn,
	"2026-11-23-003-assertions": assertions,
	"2026-11-23-004-webhooks": webhooks,
	"2026-11-23-005-user-email": userEmail,
	"2026-11-29-attest-webauthn-attestation": attestWebauthnAttestation,
	"2026-11-29-lock-recorded-lock": recordedLock,
	"2026-12-02-api-key-last-used": apiKeyLastUsed,
	"2026-12-02-logos": logos,
	"2026-12-02-recovery-requests": recoveryRequests,
	"2026-12-02-oidc": oidc,
	"2026-12-02-prompt-sessions": promptSessions,
	"2026-12-03-prompt-email-challenge": promptEmailChallenge,
	"2026-12-03-imports": imports,
	"2026-12-03-verify-decision": attemptDecision,
	// Named to sort after every migration above: Kysely refuses a new one that sorts before one a database has run.
	"2026-12-04-001-operators": operators,
	"2026-12-04-002-console-sessions": consoleSessions,
	"2026-12-04-003-event-actors": eventActors,
	"2026-12-05-001-event-rollups": eventRollups,
};

export function migrationProvider(dialect: DialectName): MigrationProvider {
	return {
		async getMigrations(): Promise<Record<string, Migration>> {
			return Object.fromEntries(
				Object.entries(MIGRATIONS).map(([name, migration]) => [name, { up: (db: Kysely<any>) => migration.up(db, dialect) }]),
			);
		},
	};
}
