import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { defaultMaxConnections } from "../src/http/connection-guard.js";
import { loadMasterKeys } from "../src/master-key.js";

const load = (env: Record<string, string>) => loadConfig(env, "/srv/twofold");

describe("configuration from the environment", () => {
	it("has the documented defaults: no request limits, no Redis, no trusted proxy", () => {
		const config = load({});
		expect(config.rateLimits).toEqual({ perIPPerMinute: 0, perTenantPerMinute: 0 });
		expect(config.redisURL).toBeUndefined();
		expect(config.trustedProxies).toEqual([]);
	});

	it("bounds every phase of a request by default; the connection cap follows the open-file limit (issue 12 #4)", () => {
		expect(load({}).connections).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000, maxConnections: undefined });
		expect(load({ TWOFOLD_MAX_CONNECTIONS: "50", TWOFOLD_HEADERS_TIMEOUT_MS: "500", TWOFOLD_REQUEST_TIMEOUT_MS: "500" }).connections).toMatchObject({ maxConnections: 50, headersTimeoutMs: 500 });
		expect(defaultMaxConnections("Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 1048576              files\n")).toBe(896);
		expect(defaultMaxConnections("Max open files            1048576              1048576              files\n")).toBe(4096);
		expect(defaultMaxConnections(null)).toBe(4096);
	});

	it("parses limits, Redis and trusted proxies", () => {
		const config = load({
			TWOFOLD_RATE_LIMIT_IP: "600",
			TWOFOLD_RATE_LIMIT_TENANT: "60000",
			TWOFOLD_REDIS_URL: "redis://cache:6379/2",
			TWOFOLD_TRUSTED_PROXIES: " 10.0.0.0/8 ,192.168.1.10, fd00::/8 ",
		});
		expect(config.rateLimits).toEqual({ perIPPerMinute: 600, perTenantPerMinute: 60000 });
		expect(config.redisURL).toBe("redis://cache:6379/2");
		expect(config.trustedProxies).toEqual(["10.0.0.0/8", "192.168.1.10", "fd00::/8"]);
	});

	it.each([
		[{ TWOFOLD_RATE_LIMIT_IP: "-1" }, "TWOFOLD_RATE_LIMIT_IP"],
		[{ TWOFOLD_RATE_LIMIT_TENANT: "10/s" }, "TWOFOLD_RATE_LIMIT_TENANT"],
		[{ TWOFOLD_REDIS_URL: "http://cache", TWOFOLD_RATE_LIMIT_IP: "10" }, "TWOFOLD_REDIS_URL"],
		// Redis only holds rate limits: a URL without a limit is a mistake, not a silent no-op.
		[{ TWOFOLD_REDIS_URL: "redis://cache" }, "no rate limit"],
		[{ TWOFOLD_TRUSTED_PROXIES: "10.0.0.0/33" }, "TWOFOLD_TRUSTED_PROXIES"],
		[{ TWOFOLD_TRUSTED_PROXIES: "proxy.internal" }, "TWOFOLD_TRUSTED_PROXIES"],
		[{ TWOFOLD_TRUSTED_PROXIES: "10.0.0.1/8/8" }, "TWOFOLD_TRUSTED_PROXIES"],
		[{ TWOFOLD_PORT: "80a" }, "TWOFOLD_PORT"],
		[{ TWOFOLD_HEADERS_TIMEOUT_MS: "20000", TWOFOLD_REQUEST_TIMEOUT_MS: "10000" }, "must not exceed TWOFOLD_REQUEST_TIMEOUT_MS"],
		[{ TWOFOLD_REQUEST_TIMEOUT_MS: "0" }, "TWOFOLD_REQUEST_TIMEOUT_MS"],
		[{ TWOFOLD_KEEP_ALIVE_TIMEOUT_MS: "1s" }, "TWOFOLD_KEEP_ALIVE_TIMEOUT_MS"],
		[{ TWOFOLD_MAX_CONNECTIONS: "1" }, "TWOFOLD_MAX_CONNECTIONS"],
	])("refuses %o, naming the variable", (env, fragment) => {
		expect(() => load(env)).toThrow(ConfigError);
		expect(() => load(env)).toThrow(fragment);
	});
});

describe("master keys (R-ST-3: several during a rotation)", () => {
	const a = Buffer.alloc(32, 1).toString("base64");
	const b = Buffer.alloc(32, 2).toString("base64");

	it("takes a comma-separated list from TWOFOLD_MASTER_KEY and one key a line from a file, the first active", () => {
		expect(loadMasterKeys(load({ TWOFOLD_MASTER_KEY: `${b},${a}` })).keys.map((k) => Buffer.from(k).toString("base64"))).toEqual([b, a]);
		const dir = mkdtempSync(join(tmpdir(), "twofold-keys-"));
		try {
			writeFileSync(join(dir, "keys"), `# rotated 2026-11-24\n${b}\n\n${a}\n`, { mode: 0o600 });
			expect(loadMasterKeys(load({ TWOFOLD_MASTER_KEY_FILE: join(dir, "keys") })).keys.map((k) => Buffer.from(k).toString("base64"))).toEqual([b, a]);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it.each([[`${a},${a}`, "twice"], [`${a},short`, "key 2"], [",", "no key"]])("refuses %s", (value, fragment) => {
		expect(() => loadMasterKeys(load({ TWOFOLD_MASTER_KEY: value }))).toThrow(fragment);
	});
});
