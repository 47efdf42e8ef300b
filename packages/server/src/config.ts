import { isIP } from "node:net";
import { isAbsolute, resolve } from "node:path";
import type { ConnectionLimits } from "./http/server.js";

/**
 * Configuration from the environment, parsed once, validated and frozen.
 * Only main.ts reads the environment. An invalid value stops the process with a
 * message naming the variable. The master key itself is not here: see master-key.ts.
 */
export interface Config {
	dataDir: string;
	host: string;
	port: number;
	/** postgres://… ; undefined means the embedded SQLite file in dataDir. */
	databaseURL: string | undefined;
	sqlitePath: string;
	masterKey: { source: "env"; base64: string } | { source: "file"; path: string } | { source: "data-dir"; path: string };
	logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
	/** The base URL applications reach Twofold at: the `iss` of every assertion. Undefined: the listen address. */
	publicURL: string | undefined;
	/** Webhooks may reach loopback and private addresses (SSRF guard off). Default false. */
	webhookAllowPrivate: boolean;
	/** Outgoing mail for email codes and notices: both set, or neither (email off). */
	smtp: { url: string; from: string } | undefined;
	/** D-7: the most this node's clock may differ from PostgreSQL's before it refuses to check codes. */
	maxClockSkewMs: number;
	/** Redis for request rate limits shared by several nodes; undefined: counted in this process. */
	redisURL: string | undefined;
	/** Requests per minute per client address and per tenant on /v1; 0 is off. */
	rateLimits: { perIPPerMinute: number; perTenantPerMinute: number };
	/** Addresses and CIDR ranges whose X-Forwarded-For is believed (V-5a); empty: the socket's address only. */
	trustedProxies: readonly string[];
	/**
	 * WebAuthn attestation trust anchors (V-15), for tenants that set attestation "direct". All unset: none,
	 * and "direct" is refused. mdsFile: a FIDO MDS3 BLOB the operator downloads; mdsRootFile: the PEM root
	 * it must chain to (default: FIDO's GlobalSign Root CA - R3, shipped); rootsDir: PEM roots of the operator's own.
	 */
	attestation: { mdsFile: string | undefined; mdsRootFile: string | undefined; rootsDir: string | undefined };
	/** Enrollments (POST /v1/users/{id}/factors) per minute per tenant; 0 is off. On by default: each renders a QR code. */
	enrollPerTenantPerMinute: number;
	/** Slow-client limits (issue 12): every phase of a request is bounded, and so is the number of open connections. */
	connections: ConnectionLimits;
	/**
	 * Bounds of one upload to POST /v1/imports (issue 17), which replace the 64 KiB body limit and the request timeout
	 * for that route only, once the caller is known to hold an admin key.
	 */
	imports: ImportLimits;
}

export interface ImportLimits {
	/** The largest body accepted (413 import_too_large beyond it). */
	maxBytes: number;
	/**
	 * The whole body, from when the route starts reading it to its last byte (408 import_timeout beyond it). The work
	 * after the last byte (the last batches, the report) is not bounded by it.
	 */
	maxMs: number;
	/** The longest wait for the next chunk of the body (408 import_timeout beyond it). */
	idleMs: number;
}

export class ConfigError extends Error {
	override readonly name = "ConfigError";
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

function nonEmpty(env: Env, name: string): string | undefined {
	const value = env[name];
	if (value === undefined) return undefined;
	if (value.trim() === "") throw new ConfigError(`${name} is set but empty`);
	return value;
}

export function loadConfig(env: Env, cwd: string): Readonly<Config> {
	const dataDir = resolve(cwd, nonEmpty(env, "TWOFOLD_DATA_DIR") ?? "./data");
	const host = nonEmpty(env, "TWOFOLD_HOST") ?? "127.0.0.1";

	const portText = nonEmpty(env, "TWOFOLD_PORT") ?? "8080";
	const port = Number(portText);
	if (!/^[0-9]{1,5}$/.test(portText) || port > 65535) {
		throw new ConfigError(`TWOFOLD_PORT must be an integer from 0 to 65535 (got "${portText}")`);
	}

	const databaseURL = nonEmpty(env, "TWOFOLD_DATABASE_URL");
	if (databaseURL !== undefined && !/^postgres(ql)?:\/\//.test(databaseURL)) {
		throw new ConfigError("TWOFOLD_DATABASE_URL must be a postgres:// or postgresql:// URL (unset it for the embedded SQLite file)");
	}

	const keyBase64 = nonEmpty(env, "TWOFOLD_MASTER_KEY");
	const keyFile = nonEmpty(env, "TWOFOLD_MASTER_KEY_FILE");
	if (keyBase64 !== undefined && keyFile !== undefined) {
		throw new ConfigError("set only one of TWOFOLD_MASTER_KEY and TWOFOLD_MASTER_KEY_FILE");
	}
	const masterKey: Config["masterKey"] =
		keyBase64 !== undefined
			? { source: "env", base64: keyBase64 }
			: keyFile !== undefined
				? { source: "file", path: isAbsolute(keyFile) ? keyFile : resolve(cwd, keyFile) }
				: { source: "data-dir", path: resolve(dataDir, "master.key") };

	const logLevel = (nonEmpty(env, "TWOFOLD_LOG_LEVEL") ?? "info") as Config["logLevel"];
	if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`TWOFOLD_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);

	const publicURL = nonEmpty(env, "TWOFOLD_PUBLIC_URL");
	if (publicURL !== undefined && !isBaseURL(publicURL)) {
		throw new ConfigError(`TWOFOLD_PUBLIC_URL must be an http(s) URL without query, fragment or trailing slash (got "${publicURL}")`);
	}

	const allowPrivateText = nonEmpty(env, "TWOFOLD_WEBHOOK_ALLOW_PRIVATE") ?? "false";
	if (allowPrivateText !== "true" && allowPrivateText !== "false") throw new ConfigError("TWOFOLD_WEBHOOK_ALLOW_PRIVATE must be true or false");

	const smtpURL = nonEmpty(env, "TWOFOLD_SMTP_URL");
	const smtpFrom = nonEmpty(env, "TWOFOLD_SMTP_FROM");
	if ((smtpURL === undefined) !== (smtpFrom === undefined)) throw new ConfigError("set both TWOFOLD_SMTP_URL and TWOFOLD_SMTP_FROM, or neither");
	if (smtpURL !== undefined && !/^smtps?:\/\//.test(smtpURL)) throw new ConfigError("TWOFOLD_SMTP_URL must be an smtp:// or smtps:// URL");
	if (smtpFrom !== undefined && !/^[^\s@<>]+@[^\s@<>]+$/.test(smtpFrom)) throw new ConfigError("TWOFOLD_SMTP_FROM must be an email address");

	const skewText = nonEmpty(env, "TWOFOLD_MAX_CLOCK_SKEW_MS") ?? "2000";
	if (!/^[0-9]{1,6}$/.test(skewText) || Number(skewText) < 100) throw new ConfigError("TWOFOLD_MAX_CLOCK_SKEW_MS must be an integer from 100 to 999999 (milliseconds)");

	const redisURL = nonEmpty(env, "TWOFOLD_REDIS_URL");
	if (redisURL !== undefined && !/^rediss?:\/\//.test(redisURL)) throw new ConfigError("TWOFOLD_REDIS_URL must be a redis:// or rediss:// URL");
	const perIPPerMinute = perMinute(env, "TWOFOLD_RATE_LIMIT_IP");
	const perTenantPerMinute = perMinute(env, "TWOFOLD_RATE_LIMIT_TENANT");
	if (redisURL !== undefined && perIPPerMinute === 0 && perTenantPerMinute === 0) {
		// Redis only holds request rate limits here; a URL with no limit is a configuration mistake, not a no-op.
		throw new ConfigError("TWOFOLD_REDIS_URL is set but no rate limit is: set TWOFOLD_RATE_LIMIT_IP or TWOFOLD_RATE_LIMIT_TENANT");
	}
	const trustedProxies = (nonEmpty(env, "TWOFOLD_TRUSTED_PROXIES") ?? "")
		.split(",")
		.map((entry) => entry.trim())
		.filter((entry) => entry !== "");
	for (const entry of trustedProxies) {
		if (!isAddressOrRange(entry)) throw new ConfigError(`TWOFOLD_TRUSTED_PROXIES must be a comma-separated list of IP addresses or CIDR ranges (got "${entry}")`);
	}

	const absolute = (path: string | undefined) => (path === undefined ? undefined : isAbsolute(path) ? path : resolve(cwd, path));
	const mdsFile = absolute(nonEmpty(env, "TWOFOLD_FIDO_MDS_FILE"));
	const mdsRootFile = absolute(nonEmpty(env, "TWOFOLD_FIDO_MDS_ROOT_FILE"));
	if (mdsRootFile !== undefined && mdsFile === undefined) throw new ConfigError("TWOFOLD_FIDO_MDS_ROOT_FILE is set but TWOFOLD_FIDO_MDS_FILE is not");
	const rootsDir = absolute(nonEmpty(env, "TWOFOLD_ATTESTATION_ROOTS_DIR"));
	const connections = connectionLimits(env);
	const enrollText = nonEmpty(env, "TWOFOLD_RATE_LIMIT_ENROLL") ?? "300";
	if (!/^[0-9]{1,8}$/.test(enrollText)) throw new ConfigError("TWOFOLD_RATE_LIMIT_ENROLL must be a whole number of enrollments per minute per tenant (0 turns the limit off)");

	return Object.freeze({
		dataDir,
		host,
		port,
		databaseURL,
		sqlitePath: resolve(dataDir, "twofold.db"),
		masterKey: Object.freeze(masterKey),
		logLevel,
		publicURL,
		webhookAllowPrivate: allowPrivateText === "true",
		smtp: smtpURL === undefined || smtpFrom === undefined ? undefined : Object.freeze({ url: smtpURL, from: smtpFrom }),
		maxClockSkewMs: Number(skewText),
		redisURL,
		rateLimits: Object.freeze({ perIPPerMinute, perTenantPerMinute }),
		trustedProxies: Object.freeze(trustedProxies),
		attestation: Object.freeze({ mdsFile, mdsRootFile, rootsDir }),
		enrollPerTenantPerMinute: Number(enrollText),
		connections,
		imports: importLimits(env),
	});
}

/** Issue 17: 100,000 users of PSKC are about 60 MB; the defaults leave room, and bound what one admin key can hold. */
function importLimits(env: Env): Readonly<ImportLimits> {
	const bytesText = nonEmpty(env, "TWOFOLD_IMPORT_MAX_BYTES") ?? String(256 * 1024 * 1024);
	if (!/^[0-9]{1,13}$/.test(bytesText) || Number(bytesText) < 1024) throw new ConfigError("TWOFOLD_IMPORT_MAX_BYTES must be a whole number of bytes, at least 1024");
	const maxMs = milliseconds(env, "TWOFOLD_IMPORT_MAX_MS", 30 * 60_000, 1000, 24 * 3_600_000);
	const idleMs = milliseconds(env, "TWOFOLD_IMPORT_IDLE_MS", 60_000, 100, 3_600_000);
	if (idleMs > maxMs) throw new ConfigError("TWOFOLD_IMPORT_IDLE_MS must not exceed TWOFOLD_IMPORT_MAX_MS");
	return Object.freeze({ maxBytes: Number(bytesText), maxMs, idleMs });
}

function milliseconds(env: Env, name: string, fallback: number, min: number, max: number): number {
	const text = nonEmpty(env, name) ?? String(fallback);
	const value = Number(text);
	if (!/^[0-9]{1,9}$/.test(text) || value < min || value > max) throw new ConfigError(`${name} must be a whole number of milliseconds from ${min} to ${max}`);
	return value;
}

/**
 * Issue 12 finding 4: without these, a client holding a socket by sending a
 * byte every few seconds kept it forever. Defaults suit a process exposed
 * directly (deploy/Dockerfile); behind a proxy they are a second line.
 */
function connectionLimits(env: Env): Readonly<ConnectionLimits> {
	const headersTimeoutMs = milliseconds(env, "TWOFOLD_HEADERS_TIMEOUT_MS", 10_000, 100, 600_000);
	const requestTimeoutMs = milliseconds(env, "TWOFOLD_REQUEST_TIMEOUT_MS", 30_000, 100, 600_000);
	// Node refuses a headers timeout longer than the request timeout, which includes the headers.
	if (headersTimeoutMs > requestTimeoutMs) throw new ConfigError("TWOFOLD_HEADERS_TIMEOUT_MS must not exceed TWOFOLD_REQUEST_TIMEOUT_MS (the request timeout includes the headers)");
	const keepAliveTimeoutMs = milliseconds(env, "TWOFOLD_KEEP_ALIVE_TIMEOUT_MS", 72_000, 100, 600_000);
	const maxText = nonEmpty(env, "TWOFOLD_MAX_CONNECTIONS");
	if (maxText !== undefined && (!/^[0-9]{1,7}$/.test(maxText) || Number(maxText) < 2)) throw new ConfigError("TWOFOLD_MAX_CONNECTIONS must be a whole number of at least 2");
	return Object.freeze({ headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections: maxText === undefined ? undefined : Number(maxText) });
}

function perMinute(env: Env, name: string): number {
	const text = nonEmpty(env, name) ?? "0";
	if (!/^[0-9]{1,8}$/.test(text)) throw new ConfigError(`${name} must be a whole number of requests per minute (0 turns the limit off)`);
	return Number(text);
}

function isAddressOrRange(entry: string): boolean {
	const [address, prefix, extra] = entry.split("/");
	const family = isIP(address ?? "");
	if (family === 0 || extra !== undefined) return false;
	if (prefix === undefined) return true;
	return /^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** An issuer is compared as a string (RFC 7519 §4.1.1), so only one spelling of it is accepted. */
function isBaseURL(text: string): boolean {
	try {
		const url = new URL(text);
		return (url.protocol === "https:" || url.protocol === "http:") && url.search === "" && url.hash === "" && url.href.replace(/\/$/, "") === text && !text.endsWith("/");
	} catch {
		return false;
	}
}
