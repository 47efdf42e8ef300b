import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, enrollActive, nextStep, type TestApp } from "../helpers.js";

/**
 * What leaves the process besides the answer (issue 12, "Also"): caches must
 * not keep an API response, since any may carry a secret, an assertion, a
 * recovery code or a TOTP seed (V-13, R-ST-4), and the log must not keep a
 * query string, where callers put keys (R-ST-4).
 */
describe("no API response is stored by a cache (V-13, R-ST-4)", () => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp();
	});
	afterAll(() => t.close());

	it("a successful verify, which carries an assertion, says Cache-Control: no-store", async () => {
		const { secret } = await enrollActive(t, "cache-alice");
		nextStep(t.clock);
		const ok = await t.call("POST", "/v1/users/cache-alice/verify", { code: codeFor(secret, t.clock()) });
		expect(ok.status).toBe(200);
		expect(ok.json.assertion).toEqual(expect.any(String));
		expect(ok.headers["cache-control"]).toBe("no-store");
	});

	it("every /v1 operation in the OpenAPI document answers no-store, with a key or without, success or error", async () => {
		const document = (await t.http.inject({ method: "GET", url: "/openapi.json" })).json() as { paths: Record<string, Record<string, unknown>> };
		const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
			Object.keys(methods)
				.filter((method) => ["get", "post", "put", "patch", "delete"].includes(method))
				.map((method) => ({ method: method.toUpperCase(), path })),
		);
		// The browser helper script is public and the same for everyone (routes/browser-helper.ts).
		const v1 = operations.filter((operation) => operation.path.startsWith("/v1/") && operation.path !== "/v1/browser.js");
		expect(v1.length).toBeGreaterThan(15);
		for (const { method, path } of v1) {
			const url = path.replace(/\{[^}]+\}/g, "cache-alice");
			for (const key of [undefined, null]) {
				const response = await t.call(method, url, method === "GET" || method === "DELETE" ? undefined : {}, key);
				expect(response.headers["cache-control"], `${method} ${url} (${response.status})`).toBe("no-store");
			}
		}
		// Public documents keep their own caching.
		expect((await t.http.inject({ method: "GET", url: "/.well-known/jwks.json" })).headers["cache-control"]).toBe("public, max-age=60");
	});
});

describe("request URLs are logged without their query string (R-ST-4)", () => {
	let t: TestApp;
	const lines: string[] = [];
	beforeAll(async () => {
		const stream = new Writable({
			write(chunk, _encoding, done) {
				lines.push(String(chunk));
				done();
			},
		});
		t = await buildTestApp({ logger: { level: "trace", stream } });
	});
	afterAll(() => t.close());

	it("a key or code put in the query of any kind of request never reaches the log", async () => {
		const secret = "tfk_CANARYKEY0123456789abcdefghij_secretpart";
		const urls = [
			`/v1/tenant?api_key=${secret}`,
			`/v1/users/alice/factors?${secret}=1`,
			`/v1/nope?code=${secret}`,
			`/healthz?token=${secret}`,
			`/v1/users/al%zz/verify?api_key=${secret}`,
			`/v1/users/${"a".repeat(10_000)}/verify?api_key=${secret}`,
			`/nope?api_key=${secret}`,
		];
		for (const url of urls) {
			await t.http.inject({ method: "GET", url });
			await t.http.inject({ method: "GET", url, headers: { authorization: `Bearer ${t.adminKey}` } });
			await t.http.inject({ method: "POST", url, headers: { "content-type": "application/json" }, payload: "{" });
		}
		const log = lines.join("");
		expect(log).not.toContain("CANARYKEY");
		expect(log).not.toContain("secretpart");
		expect(log).not.toContain(t.adminKey);
		// The requests were logged, so the checks above are not vacuous.
		expect(log).toContain('"url":"/v1/tenant?[redacted]"');
		expect(log).toContain('"url":"/healthz?[redacted]"');
		// A 10 kB path is cut short in the log.
		for (const line of lines) expect(line.length, line.slice(0, 200)).toBeLessThan(2000);
	});
});
