import { createHash, randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, enrollActive, type TestApp } from "../helpers.js";

const REDIRECT = "http://127.0.0.1:9/callback";
/** Requests per minute per address (TWOFOLD_RATE_LIMIT_IP). */
const LIMIT = 8;

/** A browser at one address: the test's socket is 127.0.0.1, a trusted proxy here, which names the address in X-Forwarded-For. */
class Browser {
	cookies = new Map<string, string>();
	constructor(
		readonly base: string,
		readonly address: string,
	) {}
	async fetch(url: string, init: RequestInit = {}): Promise<Response> {
		const headers = new Headers(init.headers);
		headers.set("x-forwarded-for", this.address);
		if (this.cookies.size > 0) headers.set("cookie", [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
		const response = await fetch(new URL(url, this.base), { ...init, headers, redirect: "manual" });
		for (const line of response.headers.getSetCookie()) {
			const [pair] = line.split(";");
			const at = pair!.indexOf("=");
			if (pair!.slice(at + 1) === "" || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(pair!.slice(0, at));
			else this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
		}
		return response;
	}
}

/**
 * The per-address request limit of /v1 (issue 6) on the hosted prompt (issue 15): the provider's endpoints and the
 * pages under /t/ count against the same counter, a burst from one address is refused (a page for a browser, OAuth's
 * JSON for an application), another address is not, and a refused code post is not evaluated (V-5, V-5a, V-5d).
 */
describe("the per-address rate limit on the hosted prompt", () => {
	let t: TestApp;
	let base: string;
	let issuer: string;
	let clientId: string;
	let clientSecret: string;
	let bob: string;
	/** Each PAR from an address of its own, so preparing a request spends no budget of the address under test. */
	let backend = 0;

	/** Moves the test clock to `offset` ms into a minute that no request has counted in yet. */
	const freshMinute = (offset = 1_000): number => {
		const minute = (Math.floor(t.clock().getTime() / 60_000) + 2) * 60_000;
		t.clock.set(minute + offset);
		return minute;
	};

	const basic = () => `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString("base64")}`;

	async function par(address = `198.51.100.${++backend}`, loginHint = "alice"): Promise<Response> {
		const verifier = randomBytes(32).toString("base64url");
		return fetch(`${issuer}/par`, {
			method: "POST",
			headers: { authorization: basic(), "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": address },
			body: new URLSearchParams({
				response_type: "code",
				client_id: clientId,
				scope: "openid",
				redirect_uri: REDIRECT,
				state: randomBytes(8).toString("hex"),
				nonce: randomBytes(8).toString("hex"),
				code_challenge: createHash("sha256").update(verifier).digest("base64url"),
				code_challenge_method: "S256",
				login_hint: loginHint,
			}),
		});
	}

	async function requestURI(loginHint = "alice"): Promise<string> {
		const pushed = await par(undefined, loginHint);
		expect(pushed.status, await pushed.clone().text()).toBe(201);
		return ((await pushed.json()) as { request_uri: string }).request_uri;
	}

	const authorizeURL = (uri: string) => `${issuer}/authorize?${new URLSearchParams({ client_id: clientId, request_uri: uri })}`;

	function expectRefusalPage(response: Response, body: string): void {
		expect(response.status).toBe(429);
		expect(response.headers.get("content-type")).toContain("text/html");
		expect(body).toContain("Too many requests");
		expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
		// The pages' own headers: a refusal page is a prompt page.
		expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
		expect(response.headers.get("cache-control")).toBe("no-store");
	}

	beforeAll(async () => {
		t = await buildTestApp({ env: { TWOFOLD_RATE_LIMIT_IP: String(LIMIT), TWOFOLD_TRUSTED_PROXIES: "127.0.0.1" } });
		await t.http.listen({ port: 0, host: "127.0.0.1" });
		base = `http://127.0.0.1:${(t.http.server.address() as AddressInfo).port}`;
		t.app.listeningAt(base);
		issuer = `${base}/t/${t.tenantId}`;
		const created = await t.call("POST", "/v1/clients", { name: "Shop", redirect_uris: [REDIRECT] });
		expect(created.status, created.body).toBe(201);
		clientId = created.json.client.client_id;
		clientSecret = created.json.client_secret;
		await enrollActive(t, "alice");
		bob = (await enrollActive(t, "bob")).secret;
	});
	afterAll(() => t?.close());

	it("a burst of back-channel requests from one address is refused in OAuth's JSON with Retry-After; another address is not (V-5)", async () => {
		freshMinute(15_000);
		const attacker = "203.0.113.7";
		const statuses: number[] = [];
		for (let i = 0; i < LIMIT; i++) statuses.push((await par(attacker)).status);
		expect(statuses).toEqual(Array(LIMIT).fill(201));
		const refused = await par(attacker);
		expect(refused.status).toBe(429);
		expect(refused.headers.get("retry-after")).toBe("45");
		expect(refused.headers.get("content-type")).toContain("application/json");
		expect(await refused.json()).toEqual({ error: "rate_limited", error_description: expect.stringContaining("Too many requests") });
		// Every provider endpoint under /t/ counts on the same address: the token endpoint and discovery are refused too,
		// before the provider reads the request.
		const token = await fetch(`${issuer}/token`, {
			method: "POST",
			headers: { authorization: basic(), "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": attacker },
			body: new URLSearchParams({ grant_type: "authorization_code", code: "x", redirect_uri: REDIRECT, code_verifier: "y".repeat(43) }),
		});
		expect(token.status).toBe(429);
		expect(((await token.json()) as { error: string }).error).toBe("rate_limited");
		expect((await fetch(`${issuer}/.well-known/openid-configuration`, { headers: { "x-forwarded-for": attacker } })).status).toBe(429);
		// One budget per address, shared with /v1: the same address's API calls are refused as the API refuses them.
		const api = await fetch(`${base}/v1/tenant`, { headers: { authorization: `Bearer ${t.adminKey}`, "x-forwarded-for": attacker } });
		expect(api.status).toBe(429);
		expect(((await api.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
		// Another address has its own count.
		expect((await par("203.0.113.8")).status).toBe(201);
		expect((await fetch(`${issuer}/.well-known/openid-configuration`, { headers: { "x-forwarded-for": "203.0.113.8" } })).status).toBe(200);
		// The page assets are not counted (static, fetched by every page view), like /healthz.
		expect((await fetch(`${base}/prompt/assets/prompt.css`, { headers: { "x-forwarded-for": attacker } })).status).toBe(200);
		// The next minute, the address starts again.
		t.clock.advance(45_000);
		expect((await par(attacker)).status).toBe(201);
	});

	it("a burst of page requests from one browser's address is refused with a page; another browser is served (V-5, V-5a)", async () => {
		freshMinute();
		const flooding = new Browser(base, "203.0.113.20");
		for (let i = 0; i < LIMIT / 2; i++) {
			const authorize = await flooding.fetch(authorizeURL(await requestURI()));
			expect(authorize.status, await authorize.clone().text()).toBe(303);
			expect((await flooding.fetch(authorize.headers.get("location")!)).status).toBe(200);
		}
		const uri = await requestURI();
		const refused = await flooding.fetch(authorizeURL(uri));
		expectRefusalPage(refused, await refused.text());
		// Localised as the pages are.
		const german = await flooding.fetch(authorizeURL(uri), { headers: { "accept-language": "de" } });
		expect(german.status).toBe(429);
		expect(await german.text()).toContain("Zu viele Anfragen");
		// A forged X-Forwarded-For from an untrusted hop does not help: the proxy appended the real address on the right (V-5a).
		const forged = await fetch(authorizeURL(uri), { headers: { "x-forwarded-for": "10.1.2.3, 203.0.113.20" }, redirect: "manual" });
		expect(forged.status).toBe(429);
		// Another browser, another address: the same request_uri (never used: the refusals did not reach the provider) works.
		const other = new Browser(base, "203.0.113.21");
		const authorize = await other.fetch(authorizeURL(uri));
		expect(authorize.status, await authorize.clone().text()).toBe(303);
		const page = await other.fetch(authorize.headers.get("location")!);
		expect(page.status).toBe(200);
		expect(await page.text()).toContain('name="csrf"');
	});

	it("a correct code posted past the limit is refused unevaluated: no attempt is counted and the code still works the next minute (V-5d)", async () => {
		// 50 s into a minute: the code of the step starting with the next minute is accepted now (±1 step) and then (current).
		const minute = freshMinute(50_000);
		const code = codeFor(bob, minute + 60_000);
		const browser = new Browser(base, "203.0.113.30");
		const authorize = await browser.fetch(authorizeURL(await requestURI("bob")));
		expect(authorize.status).toBe(303);
		const pageURL = authorize.headers.get("location")!;
		const page = await browser.fetch(pageURL);
		expect(page.status).toBe(200);
		const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
		expect(csrf).toBeDefined();
		// The rest of the minute's budget, spent on reloads.
		for (let i = 2; i < LIMIT; i++) expect((await browser.fetch(pageURL)).status).toBe(200);
		const post = () =>
			browser.fetch(`${pageURL}/verify`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrf: csrf!, code }) });
		const refused = await post();
		expectRefusalPage(refused, await refused.text());
		const events = (await t.call("GET", "/v1/events?user_id=bob&limit=100")).json.events as { type: string }[];
		expect(events.filter((e) => e.type.startsWith("verification."))).toEqual([]);
		// Next minute: the same code, never evaluated, is accepted once, and the interaction goes back to the provider.
		t.clock.set(minute + 61_000);
		const accepted = await post();
		expect(accepted.status, await accepted.clone().text()).toBe(303);
		expect(accepted.headers.get("location")).toContain(`/t/${t.tenantId}/authorize/`);
		const after = (await t.call("GET", "/v1/events?user_id=bob&limit=100")).json.events as { type: string }[];
		expect(after.filter((e) => e.type.startsWith("verification.")).map((e) => e.type)).toEqual(["verification.succeeded"]);
	});
});
