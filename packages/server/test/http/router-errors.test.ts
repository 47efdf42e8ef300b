import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/contract/errors.js";
import { buildTestApp, type TestApp } from "../helpers.js";

/**
 * Errors the router raises before any route runs (issue 12, "Also"): an
 * over-long path segment (Fastify's 414, which echoed the whole 10 kB path) and
 * bad percent-encoding (400, echoed too). They come from the catalog, never echo
 * the request (R-ST-4), and under /v1 the API key is checked first, as for every
 * other /v1 answer: an unauthenticated caller learns nothing but 401.
 */
describe("router errors go through the catalog (R-ST-4)", () => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp();
	});
	afterAll(() => t.close());

	const canary = "CANARY7Q";
	const overLong = (prefix: string) => `${prefix}${canary}${"a".repeat(10_000)}`;
	const cases: { name: string; url: string; code: "uri_too_long" | "invalid_request"; methods: ("GET" | "POST" | "DELETE")[] }[] = [
		{ name: "over-long user id", url: `${overLong("/v1/users/")}/verify`, code: "uri_too_long", methods: ["POST"] },
		{ name: "over-long user id", url: overLong("/v1/users/"), code: "uri_too_long", methods: ["GET", "DELETE"] },
		{ name: "over-long factor id", url: `/v1/users/alice/factors/${overLong("")}/confirm`, code: "uri_too_long", methods: ["POST"] },
		{ name: "bad percent-encoding in a parameter", url: `/v1/users/${canary}%zz/verify`, code: "invalid_request", methods: ["GET", "POST"] },
		{ name: "bad percent-encoding in a static segment", url: `/v1/${canary}%E0%A4%A`, code: "invalid_request", methods: ["GET", "POST"] },
		{ name: "bad percent-encoding with a query", url: `/v1/users/${canary}%/factors?x=${canary}`, code: "invalid_request", methods: ["GET", "POST"] },
	];

	for (const { name, url, code, methods } of cases) {
		for (const method of methods) {
			it(`${name} (${method}): 401 without a key, catalog ${code} with one, the path never echoed`, async () => {
				const anonymous = await t.http.inject({ method, url });
				expect(anonymous.statusCode).toBe(401);
				expect(anonymous.json()).toEqual({ error: { code: "unauthorized", message: ERROR_CODES.unauthorized.message } });
				expect(anonymous.headers["www-authenticate"]).toBe('Bearer realm="twofold"');

				const bad = await t.http.inject({ method, url, headers: { authorization: "Bearer tfk_nonsense" } });
				expect(bad.statusCode).toBe(401);

				const keyed = await t.http.inject({ method, url, headers: { authorization: `Bearer ${t.adminKey}` } });
				expect(keyed.statusCode).toBe(ERROR_CODES[code].status);
				expect(keyed.json()).toEqual(
					code === "invalid_request"
						? { error: { code, message: expect.stringContaining("percent-encoding"), details: [{ in: "path", pointer: "", message: expect.stringContaining("percent-encoding") }] } }
						: { error: { code, message: ERROR_CODES[code].message } },
				);
				for (const response of [anonymous, keyed]) {
					expect(response.body).not.toContain(canary);
					expect(response.body).not.toContain("FST_ERR");
					expect(response.body.length).toBeLessThan(300);
					expect(response.headers["cache-control"]).toBe("no-store");
				}
			});
		}
	}

	it("a route that does not exist under /v1 is not_found only for a caller with a key", async () => {
		expect((await t.http.inject({ method: "GET", url: `/v1/${canary}` })).statusCode).toBe(401);
		const keyed = await t.http.inject({ method: "GET", url: `/v1/${canary}`, headers: { authorization: `Bearer ${t.adminKey}` } });
		expect(keyed.json()).toEqual({ error: { code: "not_found", message: ERROR_CODES.not_found.message } });
	});

	it("outside /v1 the same errors are catalog errors too, without the path", async () => {
		for (const [url, code] of [
			[`/.well-known/${canary}%zz`, "invalid_request"],
			[`/${canary}%E0%A4%A`, "invalid_request"],
		] as const) {
			const response = await t.http.inject({ method: "GET", url });
			expect(response.statusCode).toBe(ERROR_CODES[code].status);
			expect(response.json()).toMatchObject({ error: { code, details: [{ in: "path", pointer: "" }] } });
			expect(response.body).not.toContain(canary);
		}
	});
});
