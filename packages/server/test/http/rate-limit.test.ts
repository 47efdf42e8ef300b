import { afterEach, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, enrollActive, nextStep, type TestApp } from "../helpers.js";

/**
 * Request rate limits per client address and per tenant (issue 6), counted in
 * this process (no TWOFOLD_REDIS_URL), and the client address they use, which
 * believes X-Forwarded-For only from configured proxies (V-5a).
 */
describe("request rate limits and trusted proxies", () => {
	let t: TestApp;
	afterEach(() => t?.close());

	/** GET /v1/tenant from a socket address, with an optional X-Forwarded-For. */
	const from = async (remoteAddress: string, forwardedFor?: string, key = t.adminKey) => {
		const response = await t.http.inject({
			method: "GET",
			url: "/v1/tenant",
			remoteAddress,
			headers: { authorization: `Bearer ${key}`, ...(forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor }) },
		});
		return { status: response.statusCode, code: (response.json() as { error?: { code: string } }).error?.code, retryAfter: response.headers["retry-after"] };
	};

	it("limits each client address per minute, with Retry-After, and starts again in the next minute", async () => {
		t = await buildTestApp({ env: { TWOFOLD_RATE_LIMIT_IP: "3" } });
		t.clock.set(Math.ceil(t.clock().getTime() / 60_000) * 60_000 + 15_000);
		for (let i = 0; i < 3; i++) expect((await from("203.0.113.7")).status).toBe(200);
		const limited = await from("203.0.113.7");
		expect(limited).toEqual({ status: 429, code: "rate_limited", retryAfter: "45" });
		// Another address has its own count.
		expect((await from("203.0.113.8")).status).toBe(200);
		// Health and metrics are outside /v1 and never limited.
		expect((await t.http.inject({ method: "GET", url: "/healthz", remoteAddress: "203.0.113.7" })).statusCode).toBe(200);
		t.clock.advance(45_000);
		expect((await from("203.0.113.7")).status).toBe(200);
	});

	it("counts requests with a bad key too: the address limit runs before authentication", async () => {
		t = await buildTestApp({ env: { TWOFOLD_RATE_LIMIT_IP: "2" } });
		expect((await from("198.51.100.1", undefined, "tfk_wrong")).status).toBe(401);
		expect((await from("198.51.100.1", undefined, "tfk_wrong")).status).toBe(401);
		expect((await from("198.51.100.1", undefined, "tfk_wrong")).code).toBe("rate_limited");
	});

	it("ignores X-Forwarded-For from an address that is not a trusted proxy (V-5a)", async () => {
		t = await buildTestApp({ env: { TWOFOLD_RATE_LIMIT_IP: "3" } });
		// A client rotating forged X-Forwarded-For values is still one address.
		const results = [];
		for (let i = 0; i < 5; i++) results.push((await from("192.0.2.50", `10.9.8.${i}`)).status);
		expect(results).toEqual([200, 200, 200, 429, 429]);
	});

	it("believes X-Forwarded-For from a trusted proxy, up to the first untrusted hop (V-5a)", async () => {
		t = await buildTestApp({ env: { TWOFOLD_RATE_LIMIT_IP: "2", TWOFOLD_TRUSTED_PROXIES: "10.0.0.0/24, 2001:db8::1" } });
		// Behind the proxy, each real client has its own count.
		for (let i = 0; i < 4; i++) expect((await from("10.0.0.5", `198.51.100.${i}`)).status).toBe(200);
		// A client that forges the left end of the header is still counted under its own address,
		// which the proxy appended on the right.
		const forged = [];
		for (let i = 0; i < 4; i++) forged.push((await from("10.0.0.5", `172.16.0.${i}, 198.51.100.200`)).status);
		expect(forged).toEqual([200, 200, 429, 429]);
		// An IPv6 proxy address from the list is trusted too.
		expect((await from("2001:db8::1", "198.51.100.150")).status).toBe(200);
		// The same header from a socket outside the list counts against that socket.
		for (let i = 0; i < 2; i++) expect((await from("10.0.1.5", `198.51.100.${i + 50}`)).status).toBe(200);
		expect((await from("10.0.1.5", "198.51.100.99")).status).toBe(429);
	});

	it("limits each tenant per minute without touching another tenant", async () => {
		t = await buildTestApp({ env: { TWOFOLD_RATE_LIMIT_TENANT: "4" } });
		const other = await t.app.services.tenants.create("other");
		for (let i = 0; i < 4; i++) expect((await from(`192.0.2.${i}`)).status).toBe(200);
		expect((await from("192.0.2.99")).code).toBe("rate_limited");
		expect((await from("192.0.2.99", undefined, other.apiKey)).status).toBe(200);
	});

	it("a limited verify is not evaluated: the code stays unused and no attempt is counted", async () => {
		t = await buildTestApp({ env: { TWOFOLD_RATE_LIMIT_TENANT: "3" } });
		const minute = Math.ceil(t.clock().getTime() / 60_000) * 60_000 + 60_000;
		t.clock.set(minute - 2_000);
		const { secret } = await enrollActive(t, "limited"); // requests 1 and 2 of this minute
		expect((await t.call("GET", "/v1/tenant")).status).toBe(200); // 3
		// The code of the step that starts with the next minute: inside the ±1 window now, current then.
		const code = codeFor(secret, minute);
		const limited = await t.call("POST", "/v1/users/limited/verify", { code });
		expect(limited.json.error.code).toBe("rate_limited");
		t.clock.set(minute + 100);
		expect((await t.call("POST", "/v1/users/limited/verify", { code })).status).toBe(200);
		const events = (await t.call("GET", "/v1/events?user_id=limited&limit=100")).json.events as { type: string }[];
		expect(events.filter((e) => e.type.startsWith("verification.")).map((e) => e.type)).toEqual(["verification.succeeded"]);
	});
});
