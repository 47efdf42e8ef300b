import { randomBytes, randomFillSync } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { loadAttestationTrust } from "./attestation-trust.js";
import { type Clock, systemClock } from "./clock/clock.js";
import { type Config, ConfigError } from "./config.js";
import { createKeyring } from "./core/keyring.js";
import type { RandomReader } from "./core/random.js";
import { secureDataDir } from "./data-dir.js";
import { loadMasterKeys } from "./master-key.js";
import { createServices, type Services } from "./services/services.js";
import type { ServiceLog } from "./services/deps.js";
import { type ClockGuard, startClockGuard } from "./clock/clock-guard.js";
import { smtpMailer } from "./mail/mailer.js";
import { assertKeyringOpensStore, KeyringMismatchError } from "./services/master-key-rotation.js";
import { memoryRateCounters, type RateCounters } from "./rate-counters/rate-counters.js";
import { redisRateCounters } from "./rate-counters/redis-rate-counters.js";
import { ensureSigningKey, signingKeys } from "./services/signing-keys.js";
import { ensureIdTokenKeys } from "./services/id-token-keys.js";
import { oidcProviders, type OIDCProviders } from "./oidc/providers.js";
import { promptInteractions } from "./oidc/prompt-interactions.js";
import type { PromptInteractions } from "./oidc/prompt-interaction.js";
import { openStore, type StoreHandle } from "./store/kysely-store.js";

/**
 * The only production RandomReader (R-OTP-5: seeds come from the CSPRNG).
 * Small reads are served from a pool refilled by randomFillSync, as Node's own
 * randomUUID does: one system call per 4 KiB instead of one per id. Each byte
 * is handed out once and the pool is never reused without a refill.
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;
export const nodeRandom: RandomReader = (byteLength) => {
	if (byteLength > 256) return new Uint8Array(randomBytes(byteLength));
	if (poolOffset + byteLength > POOL_BYTES) {
		randomFillSync(pool);
		poolOffset = 0;
	}
	const bytes = new Uint8Array(pool.subarray(poolOffset, poolOffset + byteLength));
	poolOffset += byteLength;
	return bytes;
};

export interface AppOptions {
	/** Tests only: production always runs on the system clock (R-OTP-8). No request or env var reaches this. */
	clock?: Clock;
	logger?: boolean | object;
	/** serve: compare this node's clock with the database's and refuse codes while they differ (D-7). */
	guardClock?: boolean;
}

export interface App {
	config: Readonly<Config>;
	store: StoreHandle;
	services: Services;
	masterKeyCreated: boolean;
	/** The hosted prompt's OpenID Connect side (issue 15): the tenants' providers, and the seam the pages use. */
	oidc: { providers: OIDCProviders; prompt: PromptInteractions };
	/** Built lazily: the CLI never needs an HTTP server. */
	http(): Promise<FastifyInstance>;
	/** The clock guard when guardClock was asked for. */
	clockGuard(): ClockGuard | undefined;
	/** Called by serve once listening: without TWOFOLD_PUBLIC_URL, the bound address is the issuer. */
	listeningAt(address: string): void;
	close(): Promise<void>;
}

/** Opens the store (migrated, durability checked) and wires services. Never listens. */
export async function createApp(config: Readonly<Config>, options: AppOptions = {}): Promise<App> {
	// R-ST-1: the folder, key and database files private before the key is read or the store opened. Outside the
	// request log, which does not exist yet; the line names paths and modes, never a secret.
	secureDataDir(config, (msg, fields) => process.stderr.write(`${JSON.stringify({ level: 40, msg, ...fields })}\n`));
	// Before the store opens: a bad MDS file or roots directory stops the start with nothing to clean up.
	const attestationTrust = await loadAttestationTrust(config, (options.clock ?? systemClock)(), (level, msg, fields) =>
		process.stderr.write(`${JSON.stringify({ level: level === "warn" ? 40 : 30, msg, ...fields })}\n`),
	);
	const masterKey = loadMasterKeys(config);
	const store = openStore({ databaseURL: config.databaseURL, sqlitePath: config.sqlitePath });
	try {
		await store.checkDurability();
		await store.migrate();
	} catch (error) {
		await store.close();
		throw error;
	}
	const keyDeps = { store, keyring: createKeyring(masterKey.keys), clock: options.clock ?? systemClock, random: nodeRandom };
	for (const key of masterKey.keys) key.fill(0);
	try {
		await assertKeyringOpensStore(keyDeps);
	} catch (error) {
		await store.close();
		// The same one line as any other configuration error: `twofold: <message>`, exit 1 (main.ts).
		if (error instanceof KeyringMismatchError) throw new ConfigError(error.message, { cause: error });
		throw error;
	}
	// The issuer is the configured public URL, or else the address the server ends up listening at.
	let issuer = config.publicURL ?? `http://${config.host}:${config.port}`;
	let guard: ClockGuard | undefined;
	// Services log through the HTTP server's logger (pino) once it is built; before that, and in the CLI, nowhere.
	let serviceLog: ServiceLog | undefined;
	const services = createServices({
		...keyDeps,
		clockTrusted: () => guard?.trusted() ?? true,
		issuer: () => issuer,
		signingKeys: signingKeys(keyDeps),
		outbound: { allowPrivateWebhooks: config.webhookAllowPrivate },
		mailer: config.smtp === undefined ? null : smtpMailer(config.smtp),
		attestationTrust,
		log: { info: (fields, message) => serviceLog?.info(fields, message), warn: (fields, message) => serviceLog?.warn(fields, message) },
	});
	await ensureSigningKey(keyDeps);
	await ensureIdTokenKeys(keyDeps);
	const providers = oidcProviders(services.deps);
	const oidc = { providers, prompt: promptInteractions(services.deps, providers) };
	if (options.guardClock === true) {
		guard = await startClockGuard(() => store.databaseTime(), keyDeps.clock, {
			maxSkewMs: config.maxClockSkewMs,
			// Outside the request log, which may not exist yet; the line names no secret.
			onChange: (skewMs, trusted) => process.stderr.write(`${JSON.stringify({ level: trusted ? 30 : 50, msg: trusted ? "clock back within the allowed skew" : "clock skew exceeds TWOFOLD_MAX_CLOCK_SKEW_MS: refusing to check codes", skew_ms: skewMs })}\n`),
		});
	}
	let http: FastifyInstance | undefined;
	let counters: RateCounters | undefined;
	const rateLimited = config.rateLimits.perIPPerMinute > 0 || config.rateLimits.perTenantPerMinute > 0;
	return {
		config,
		store,
		services,
		masterKeyCreated: masterKey.created,
		oidc,
		async http() {
			// Imported here so CLI commands do not load Fastify and its plugins.
			const { buildHTTPServer } = await import("./http/server.js");
			const { defaultMaxConnections } = await import("./http/connection-guard.js");
			if (http !== undefined) return http;
			counters =
				config.redisURL !== undefined && rateLimited
					? redisRateCounters(config.redisURL, {
							// Outside the request log. ioredis's reason names Redis's host and port at most, never the URL's password.
							onStateChange: (available, reason) =>
								process.stderr.write(`${JSON.stringify({ level: available ? 30 : 50, msg: available ? "rate-limit store (Redis) available" : "rate-limit store (Redis) unavailable: /v1 requests are refused until it returns", reason })}\n`),
						})
					: memoryRateCounters();
			http = await buildHTTPServer(services, store, {
				logger: options.logger ?? { level: config.logLevel },
				trustedProxies: config.trustedProxies,
				rateLimits: { ...config.rateLimits, counters },
				enrollPerTenantPerMinute: config.enrollPerTenantPerMinute,
				connections: { ...config.connections, maxConnections: config.connections.maxConnections ?? defaultMaxConnections() },
				imports: config.imports,
				oidc,
				prompt: { interactions: oidc.prompt, publicUrl: () => issuer },
			});
			serviceLog = http.log;
			return http;
		},
		listeningAt(address) {
			if (config.publicURL === undefined) issuer = address;
		},
		clockGuard: () => guard,
		async close() {
			guard?.stop();
			if (http !== undefined) await http.close();
			await counters?.close();
			services.deps.mailer?.close();
			await store.close();
		},
	};
}
