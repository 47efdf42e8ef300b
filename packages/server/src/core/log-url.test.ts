import { describe, expect, it } from "vitest";
import { LOGGED_PATH_MAX, urlForLog } from "./log-url.js";

describe("request URLs in log lines (R-ST-4)", () => {
	it("replaces the whole query string, names included, and keeps the path", () => {
		expect(urlForLog("/v1/tenant?api_key=tfk_x_secret")).toBe("/v1/tenant?[redacted]");
		expect(urlForLog("/v1/users/a/factors?tfk_x_secret")).toBe("/v1/users/a/factors?[redacted]");
		expect(urlForLog("/v1/events?")).toBe("/v1/events?[redacted]");
		expect(urlForLog("/v1/x#frag?code=1")).toBe("/v1/x?[redacted]");
		expect(urlForLog("/healthz")).toBe("/healthz");
		expect(urlForLog(undefined)).toBeUndefined();
	});

	it("cuts a long path and says how much was left out", () => {
		const logged = urlForLog(`/v1/users/${"a".repeat(10_000)}/verify?code=123456`)!;
		expect(logged.length).toBeLessThan(LOGGED_PATH_MAX + 40);
		expect(logged).toMatch(/…\[\d+ more\]\?\[redacted\]$/);
		expect(logged).not.toContain("123456");
	});

	it("keeps a path of exactly LOGGED_PATH_MAX characters whole, and counts what it cuts from a longer one", () => {
		const atLimit = `/${"p".repeat(LOGGED_PATH_MAX - 1)}`;
		expect(urlForLog(atLimit)).toBe(atLimit);
		expect(urlForLog(`${atLimit}x?code=1`)).toBe(`${atLimit}…[1 more]?[redacted]`);
		expect(urlForLog(`${atLimit}${"x".repeat(1000)}`)).toBe(`${atLimit}…[1000 more]`);
	});
});
