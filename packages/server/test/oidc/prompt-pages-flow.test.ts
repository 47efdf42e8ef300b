import { spawnSync } from "node:child_process";
import type { AddressInfo } from "node:net";
import { createPromptClient } from "@twofold/sdk";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashId } from "../../src/oidc/adapter.js";
import { CODE_TTL_SECONDS } from "../../src/oidc/providers.js";
import { buildTestApp, codeFor, DIALECTS, enrollActive, IN_CI, nextStep, type TestApp } from "../helpers.js";
import { SoftwareAuthenticator } from "../software-authenticator.js";
import { Browser, csrfOf } from "../prompt-browser.js";

/** PyJWT from Debian: an independent check of the id_token against the issuer's JWKS (as prompt-oidc.test.ts). */
const PYTHON = "/usr/bin/python3";
const PYJWT = spawnSync(PYTHON, ["-c", "import jwt, cryptography"]).status === 0;
if (!PYJWT && IN_CI) throw new Error("PyJWT is required under CI=true (Debian packages python3-jwt python3-cryptography)");

const REDIRECT = "http://127.0.0.1:9/callback";
const PHR = "urn:twofold:acr:phr";
/** The setup page's key for manual entry (pages/enroll-page.tsx: base32 in groups of four). */
const MANUAL_KEY = /<code class="secret" id="secret">([A-Z2-7 ]+)<\/code>/;



/** Where the interaction page is: the browser, the page's URL (path), its HTML and CSRF token. */
interface OpenPage {
	browser: Browser;
	url: string;
	html: string;
	csrf: string;
	status: number;
}

/**
 * The hosted prompt end to end through its REAL pages (issue 15): the browser follows /authorize to the interaction
 * page, the test reads the CSRF field from the HTML and posts the forms the page shows, and the result comes back to
 * the application by the plain authorization-code flow. Both dialects, real HTTP on loopback, no stand-in route.
 */
describe.each(DIALECTS)("hosted prompt through the real pages (%s)", (dialect) => {
	let t: TestApp;
	let base: string;
	let issuer: string;
	let clientId: string;
	let clientSecret: string;
	const alice = { secret: "" };
	const other = { tenantId: "", apiKey: "", issuer: "", carolSecret: "" };
	let carolSecret = "";

	const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;

	async function par(params: Record<string, string>, at = issuer, id = clientId, secret = clientSecret): Promise<Response> {
		return fetch(`${at}/par`, {
			method: "POST",
			headers: { authorization: basic(id, secret), "content-type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams(params),
		});
	}

	async function pushed(extra: Record<string, string> = {}, id = clientId, secret = clientSecret) {
		const verifier = client.randomPKCECodeVerifier();
		const params = {
			response_type: "code",
			client_id: id,
			scope: "openid",
			redirect_uri: REDIRECT,
			state: client.randomState(),
			nonce: client.randomNonce(),
			code_challenge: await client.calculatePKCECodeChallenge(verifier),
			code_challenge_method: "S256",
			login_hint: "alice",
			...extra,
		};
		const response = await par(params, issuer, id, secret);
		expect(response.status, await response.clone().text()).toBe(201);
		const { request_uri, expires_in } = (await response.json()) as { request_uri: string; expires_in: number };
		expect(expires_in).toBe(60);
		return { params, verifier, authorizeURL: `${issuer}/authorize?${new URLSearchParams({ client_id: id, request_uri })}` };
	}

	/** The browser at /authorize, redirected to the interaction page, which it opens (GET). */
	async function open(authorizeURL: string, browser = new Browser(base), headers: Record<string, string> = {}): Promise<OpenPage> {
		const authorize = await browser.fetch(authorizeURL);
		expect(authorize.status, await authorize.clone().text()).toBe(303);
		const url = authorize.headers.get("location")!;
		expect(url).toMatch(new RegExp(`^/t/${t.tenantId}/interaction/[A-Za-z0-9_-]+$`));
		const page = await browser.fetch(url, { headers });
		const html = await page.text();
		return { browser, url, html, csrf: page.status === 200 ? csrfOf(html) : "", status: page.status };
	}

	/** Follows the pages' 303 into the provider (/authorize/{uid}) and its 303 to the redirect URI. */
	async function backToApp(browser: Browser, finished: Response): Promise<URL> {
		expect(finished.status, await finished.clone().text()).toBe(303);
		const resume = await browser.fetch(finished.headers.get("location")!);
		expect(resume.status, await resume.clone().text()).toBe(303);
		return new URL(resume.headers.get("location")!);
	}

	/** The verify page's code form, with a code the user's app shows at the server's (test) clock. */
	async function verifyWithCode(page: OpenPage, secret = alice.secret): Promise<Response> {
		nextStep(t.clock);
		return page.browser.post(`${page.url}/verify`, { csrf: page.csrf, code: codeFor(secret, t.clock()) });
	}

	async function exchange(callback: URL, verifier: string, id = clientId, secret = clientSecret): Promise<{ status: number; json: any }> {
		const response = await fetch(`${issuer}/token`, {
			method: "POST",
			headers: { authorization: basic(id, secret), "content-type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams({ grant_type: "authorization_code", code: callback.searchParams.get("code")!, redirect_uri: REDIRECT, code_verifier: verifier }),
		});
		return { status: response.status, json: await response.json() };
	}

	const claimsOf = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString());

	async function setPolicy(policy: "enroll" | "deny" | "allow"): Promise<void> {
		const patched = await t.call("PATCH", "/v1/tenant", { prompt: { no_factor_policy: policy } });
		expect(patched.status, patched.body).toBe(200);
	}

	/** PyJWT verifies an id_token against the issuer's JWKS, with only the algorithm given. */
	async function pyjwt(idToken: string, algorithm: "RS256" | "EdDSA", audience: string): Promise<Record<string, unknown>> {
		const jwks = await (await fetch(`${issuer}/jwks`)).text();
		const script = [
			"import jwt, json, sys",
			"keys = jwt.PyJWKSet.from_json(sys.argv[1])",
			"token = sys.argv[2]",
			"kid = jwt.get_unverified_header(token)['kid']",
			"key = [k for k in keys.keys if k.key_id == kid][0]",
			"claims = jwt.decode(token, key.key, algorithms=[sys.argv[5]], audience=sys.argv[3], issuer=sys.argv[4])",
			"print(json.dumps(claims))",
		].join("\n");
		const run = spawnSync(PYTHON, ["-c", script, jwks, idToken, audience, issuer, algorithm], { encoding: "utf8" });
		expect(run.status, run.stderr).toBe(0);
		return JSON.parse(run.stdout) as Record<string, unknown>;
	}

	beforeAll(async () => {
		t = await buildTestApp({ dialect });
		await t.http.listen({ port: 0, host: "127.0.0.1" });
		base = `http://127.0.0.1:${(t.http.server.address() as AddressInfo).port}`;
		t.app.listeningAt(base);
		issuer = `${base}/t/${t.tenantId}`;
		const created = await t.call("POST", "/v1/clients", { name: "Shop", redirect_uris: [REDIRECT] });
		expect(created.status, created.body).toBe(201);
		clientId = created.json.client.client_id;
		clientSecret = created.json.client_secret;
		alice.secret = (await enrollActive(t, "alice")).secret;
		carolSecret = (await enrollActive(t, "carol")).secret;
		// Tenant B: its own branding, a user carol of its own (same id as tenant A's carol) and a client.
		const b = await t.app.services.tenants.create("bank-b");
		other.tenantId = b.tenant.id;
		other.apiKey = b.apiKey;
		other.issuer = `${base}/t/${b.tenant.id}`;
		expect((await t.call("PATCH", "/v1/tenant", { branding: { display_name: "Tenant B Bank" } }, b.apiKey)).status).toBe(200);
		const enrolled = await t.call("POST", "/v1/users/carol/factors", { type: "totp", label: "B carol phone" }, b.apiKey);
		expect(enrolled.status, enrolled.body).toBe(201);
		other.carolSecret = enrolled.json.totp.secret;
		const confirmed = await t.call("POST", `/v1/users/carol/factors/${enrolled.json.factor.id}/confirm`, { code: codeFor(other.carolSecret, t.clock()) }, b.apiKey);
		expect(confirmed.status, confirmed.body).toBe(200);
	});
	afterAll(() => t.close());

	describe("clients complete the flow", () => {
		it("openid-client, configured only from discovery, completes it through the verify page; the id_token (RS256) validates, and PyJWT agrees", async () => {
			const config = await client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretBasic(clientSecret), { execute: [client.allowInsecureRequests] });
			client.enableNonRepudiationChecks(config);
			const verifier = client.randomPKCECodeVerifier();
			const nonce = client.randomNonce();
			const state = client.randomState();
			const url = await client.buildAuthorizationUrlWithPAR(config, {
				redirect_uri: REDIRECT,
				scope: "openid",
				code_challenge: await client.calculatePKCECodeChallenge(verifier),
				code_challenge_method: "S256",
				nonce,
				state,
				login_hint: "alice",
			});
			const page = await open(url.href);
			expect(page.status).toBe(200);
			expect(page.html).toContain('autocomplete="one-time-code"');
			expect(page.browser.cookies.has("__Host-twofold-prompt")).toBe(true);
			const callback = await backToApp(page.browser, await verifyWithCode(page));
			expect(callback.origin + callback.pathname).toBe(REDIRECT);
			expect(callback.searchParams.get("iss")).toBe(issuer);
			expect(callback.searchParams.get("state")).toBe(state);
			const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
			const claims = tokens.claims()!;
			expect(claims).toMatchObject({ iss: issuer, aud: clientId, sub: "alice", nonce, tid: t.tenantId, acr: "urn:twofold:acr:otp", amr: ["otp"] });
			expect(JSON.parse(Buffer.from(tokens.id_token!.split(".")[0]!, "base64url").toString()).alg).toBe("RS256");
			expect(typeof (tokens as unknown as { twofold_assertion: unknown }).twofold_assertion).toBe("string");
			if (!PYJWT) return;
			expect(await pyjwt(tokens.id_token!, "RS256", clientId)).toMatchObject({ sub: "alice", tid: t.tenantId, acr: "urn:twofold:acr:otp", nonce });
		});

		it("the SDK's createPromptClient completes it through the verify page, and its result carries the assertion", async () => {
			const prompt = createPromptClient({ issuer, clientId, clientSecret, redirectUri: REDIRECT });
			const { url, ...session } = await prompt.start({ userId: "alice" });
			const page = await open(url);
			const callback = await backToApp(page.browser, await verifyWithCode(page));
			const result = await prompt.callback(callback, session);
			expect(result).toMatchObject({ userId: "alice", tenantId: t.tenantId, acr: "urn:twofold:acr:otp", amr: ["otp"], actionHash: null });
			expect(typeof result.assertion).toBe("string");
			const redeemed = await t.call("POST", "/v1/assertions/redeem", { assertion: result.assertion });
			expect(redeemed.status, redeemed.body).toBe(200);
		});

		it("a client registered with id_token_signed_response_alg EdDSA gets an EdDSA id_token; openid-client and PyJWT check it against the JWKS", async () => {
			const created = await t.call("POST", "/v1/clients", { name: "Ed", redirect_uris: [REDIRECT], id_token_signed_response_alg: "EdDSA" });
			expect(created.status, created.body).toBe(201);
			const id = created.json.client.client_id as string;
			const secret = created.json.client_secret as string;
			const config = await client.discovery(new URL(issuer), id, { id_token_signed_response_alg: "EdDSA" }, client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
			const verifier = client.randomPKCECodeVerifier();
			const nonce = client.randomNonce();
			const url = await client.buildAuthorizationUrlWithPAR(config, { redirect_uri: REDIRECT, scope: "openid", code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", nonce, login_hint: "alice" });
			const page = await open(url.href);
			const callback = await backToApp(page.browser, await verifyWithCode(page));
			const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
			expect(JSON.parse(Buffer.from(tokens.id_token!.split(".")[0]!, "base64url").toString()).alg).toBe("EdDSA");
			expect(tokens.claims()).toMatchObject({ sub: "alice", aud: id, acr: "urn:twofold:acr:otp" });
			if (!PYJWT) return;
			expect(await pyjwt(tokens.id_token!, "EdDSA", id)).toMatchObject({ sub: "alice", aud: id });
		});
	});

	describe("users without a factor: the tenant's no_factor_policy through the pages", () => {
		afterAll(() => setPolicy("enroll"));

		it("enroll: the enrollment page is shown, and confirming the app ends the flow after the recovery codes are acknowledged", async () => {
			await setPolicy("enroll");
			const { verifier, authorizeURL } = await pushed({ login_hint: "nofactor-enroll" });
			const page = await open(authorizeURL);
			expect(page.status).toBe(200);
			expect(page.html).toContain('name="kind" value="totp"');
			expect(page.html).toContain(`action="${page.url}/enroll"`);
			const secret = await enrollApp(page);
			nextStep(t.clock);
			const confirmed = await page.browser.post(`${page.url}/enroll/confirm`, { csrf: page.csrf, code: codeFor(secret, t.clock()) });
			expect(confirmed.status, await confirmed.clone().text()).toBe(303);
			const codesPage = await (await page.browser.fetch(page.url)).text();
			expect(codesPage).toContain('name="saved"');
			const saved = await page.browser.post(`${page.url}/recovery-codes/saved`, { csrf: page.csrf, saved: "yes" });
			const callback = await backToApp(page.browser, saved);
			const tokens = await exchange(callback, verifier);
			expect(tokens.status, JSON.stringify(tokens.json)).toBe(200);
			expect(claimsOf(tokens.json.id_token)).toMatchObject({ sub: "nofactor-enroll", acr: "urn:twofold:acr:otp", amr: ["otp"] });
			expect(typeof tokens.json.twofold_assertion).toBe("string");
		});

		it("deny: the browser returns with access_denied, no code, and iss", async () => {
			await setPolicy("deny");
			const { params, authorizeURL } = await pushed({ login_hint: "nofactor-deny" });
			const browser = new Browser(base);
			const authorize = await browser.fetch(authorizeURL);
			const page = await browser.fetch(authorize.headers.get("location")!);
			const callback = await backToApp(browser, page);
			expect(callback.searchParams.get("error")).toBe("access_denied");
			expect(callback.searchParams.get("code")).toBeNull();
			expect(callback.searchParams.get("state")).toBe(params.state);
			expect(callback.searchParams.get("iss")).toBe(issuer);
		});

		it("allow: an id_token with acr urn:twofold:acr:none and no amr, and NO twofold_assertion in the token response", async () => {
			await setPolicy("allow");
			const { verifier, authorizeURL } = await pushed({ login_hint: "nofactor-allow" });
			const browser = new Browser(base);
			const authorize = await browser.fetch(authorizeURL);
			const callback = await backToApp(browser, await browser.fetch(authorize.headers.get("location")!));
			const tokens = await exchange(callback, verifier);
			expect(tokens.status, JSON.stringify(tokens.json)).toBe(200);
			expect("twofold_assertion" in tokens.json).toBe(false);
			const claims = claimsOf(tokens.json.id_token);
			expect(claims.acr).toBe("urn:twofold:acr:none");
			expect(claims.amr ?? []).toEqual([]);
			expect(claims.sub).toBe("nofactor-allow");
		});

		it("allow with acr_values: a no-factor result only when urn:twofold:acr:none is listed (the SDK lists it under allowNoFactor), else access_denied", async () => {
			await setPolicy("allow");
			const { authorizeURL } = await pushed({ login_hint: "nofactor-allow", acr_values: "urn:twofold:acr:otp" });
			const browser = new Browser(base);
			const authorize = await browser.fetch(authorizeURL);
			const denied = await backToApp(browser, await browser.fetch(authorize.headers.get("location")!));
			expect(denied.searchParams.get("error")).toBe("access_denied");
			const prompt = createPromptClient({ issuer, clientId, clientSecret, redirectUri: REDIRECT });
			const { url, ...session } = await prompt.start({ userId: "nofactor-allow", acrValues: ["urn:twofold:acr:otp"], allowNoFactor: true });
			expect(new URL(url).searchParams.get("request_uri")).not.toBeNull();
			const sdkBrowser = new Browser(base);
			const sdkAuthorize = await sdkBrowser.fetch(url);
			const result = await prompt.callback(await backToApp(sdkBrowser, await sdkBrowser.fetch(sdkAuthorize.headers.get("location")!)), session);
			expect(result).toMatchObject({ userId: "nofactor-allow", acr: "urn:twofold:acr:none", amr: [], assertion: null });
		});
	});

	describe("the review's attacks and edge cases", () => {
		afterAll(async () => {
			await setPolicy("enroll");
			await t.call("PATCH", "/v1/tenant", { assertions: { ttl_seconds: 300 } });
		});

		it("attack: under no_factor_policy deny, a crafted GET or POST to /enroll enrolls nothing and the sign-in still ends access_denied (R-LC-1)", async () => {
			await setPolicy("deny");
			const { authorizeURL } = await pushed({ login_hint: "deny-crafted" });
			const browser = new Browser(base);
			const authorize = await browser.fetch(authorizeURL);
			const url = authorize.headers.get("location")!;
			const direct = await browser.fetch(`${url}/enroll`);
			expect(direct.status).toBe(303);
			expect(direct.headers.get("location")).toBe(url);
			// The session's CSRF token, as the attacker holding this browser would have it from any page.
			const { csrfToken } = await import("../../src/http/prompt-session.js");
			const csrf = csrfToken(browser.cookies.get("__Host-twofold-prompt")!, t.tenantId, url.split("/").pop()!);
			const posted = await browser.post(`${url}/enroll`, { csrf, kind: "totp", label: "attacker" });
			expect(posted.status).toBe(303);
			expect(posted.headers.get("location")).toBe(url);
			expect((await t.call("GET", "/v1/users/deny-crafted/factors")).json.factors ?? []).toEqual([]);
			const callback = await backToApp(browser, await browser.fetch(url));
			expect(callback.searchParams.get("error")).toBe("access_denied");
		});

		it("an action to approve needs intent verify: with enroll or manage the PAR is refused with invalid_request", async () => {
			const details = JSON.stringify([{ type: "twofold_action", action: { type: "change_email" }, description: "Change your email" }]);
			for (const intent of ["enroll", "manage"]) {
				const verifier = client.randomPKCECodeVerifier();
				const response = await par({ response_type: "code", client_id: clientId, scope: "openid", redirect_uri: REDIRECT, state: "s", nonce: "n", code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", login_hint: "alice", intent, authorization_details: details });
				expect(response.status, intent).toBe(400);
				expect(((await response.json()) as { error: string }).error).toBe("invalid_request");
			}
		});

		it("a sign-in that approves an action, for a user who enrolls a first factor: after the recovery codes the new factor's next code approves it, and the id_token carries the action hash", async () => {
			await setPolicy("enroll");
			const action = { type: "change_email", to: "new@example.com" };
			const { verifier, authorizeURL } = await pushed({ login_hint: "first-with-action", authorization_details: JSON.stringify([{ type: "twofold_action", action, description: "Change your email" }]) });
			const page = await open(authorizeURL);
			const secret = await enrollApp(page);
			nextStep(t.clock);
			expect((await page.browser.post(`${page.url}/enroll/confirm`, { csrf: page.csrf, code: codeFor(secret, t.clock()) })).status).toBe(303);
			const saved = await page.browser.post(`${page.url}/recovery-codes/saved`, { csrf: page.csrf, saved: "yes" });
			// Not finished with the confirmation (which binds no action): back to the page, now the verify page.
			expect(saved.status).toBe(303);
			expect(saved.headers.get("location")).toBe(page.url);
			const verify = await (await page.browser.fetch(page.url)).text();
			expect(verify).toContain("Change your email");
			const callback = await backToApp(page.browser, await verifyWithCode({ ...page, html: verify }, secret));
			const tokens = await exchange(callback, verifier);
			expect(tokens.status, JSON.stringify(tokens.json)).toBe(200);
			expect(typeof claimsOf(tokens.json.id_token).action_hash).toBe("string");
			expect(claimsOf(tokens.json.twofold_assertion).action_hash).toBe(claimsOf(tokens.json.id_token).action_hash);
		});

		it("a stored proof older than the tenant's assertion lifetime does not finish the interaction: the user proves again instead of a request left hanging", async () => {
			await setPolicy("enroll");
			expect((await t.call("PATCH", "/v1/tenant", { assertions: { ttl_seconds: 30 } })).status).toBe(200);
			const { verifier, authorizeURL } = await pushed({ login_hint: "slow-saver" });
			const page = await open(authorizeURL);
			const secret = await enrollApp(page);
			nextStep(t.clock);
			expect((await page.browser.post(`${page.url}/enroll/confirm`, { csrf: page.csrf, code: codeFor(secret, t.clock()) })).status).toBe(303);
			t.clock.advance(40_000);
			const saved = await page.browser.post(`${page.url}/recovery-codes/saved`, { csrf: page.csrf, saved: "yes" });
			expect(saved.status).toBe(303);
			expect(saved.headers.get("location")).toBe(page.url);
			const again = await page.browser.fetch(page.url);
			expect(again.status).toBe(200);
			expect(await again.text()).toContain('autocomplete="one-time-code"');
			const callback = await backToApp(page.browser, await verifyWithCode(page, secret));
			expect((await exchange(callback, verifier)).status).toBe(200);
		});

		it("attack: a recovery code typed into the app-code field, when the application accepts only otp and phr, is refused before it is tried and stays unspent", async () => {
			const regenerated = await t.call("POST", "/v1/users/alice/recovery-codes", { reason: "test: fresh codes" });
			expect(regenerated.status, regenerated.body).toBe(201);
			const code = regenerated.json.recovery_codes[0] as string;
			const { authorizeURL } = await pushed({ acr_values: `urn:twofold:acr:otp ${PHR}` });
			const page = await open(authorizeURL);
			const refused = await page.browser.post(`${page.url}/verify`, { csrf: page.csrf, code });
			expect(refused.status).toBe(403);
			expect((await t.call("GET", "/v1/users/alice")).json.recovery_codes_remaining).toBe(10);
		});

		it("two first loads of the same interaction at once (two tabs, a prefetch) both get the page", async () => {
			const { authorizeURL } = await pushed();
			const browser = new Browser(base);
			const url = (await browser.fetch(authorizeURL)).headers.get("location")!;
			// A cookie the browser already holds from another interaction: both loads use it for a new row.
			browser.cookies.set("__Host-twofold-prompt", "C".repeat(43));
			const [a, b] = await Promise.all([browser.fetch(url), browser.fetch(url)]);
			expect([a.status, b.status]).toEqual([200, 200]);
		});

		it("a factor name the API refuses (a colon) is a field error on the manage page, not a failure page", async () => {
			const { authorizeURL } = await pushed({ intent: "manage" });
			const page = await open(authorizeURL);
			const proved = await verifyWithCode(page);
			expect(proved.status).toBe(303);
			const manage = await (await page.browser.fetch(page.url)).text();
			const factorId = /name="factor_id" value="([^"]+)"/.exec(manage)![1]!;
			const renamed = await page.browser.post(`${page.url}/manage/rename`, { csrf: page.csrf, factor_id: factorId, label: "work: phone" });
			expect(renamed.status).toBe(400);
			expect(await renamed.text()).toContain('id="rename-');
		});
	});

	/** Chooses the authenticator app on the enrollment page; returns the key the setup page shows for manual entry. */
	async function enrollApp(page: OpenPage): Promise<string> {
		const chosen = await page.browser.post(`${page.url}/enroll`, { csrf: page.csrf, kind: "totp", label: "My phone" });
		expect(chosen.status, await chosen.clone().text()).toBe(303);
		const setup = await (await page.browser.fetch(page.url)).text();
		const key = MANUAL_KEY.exec(setup);
		if (key === null) throw new Error(`no manual key on the setup page: ${setup}`);
		return key[1]!.replace(/\s+/g, "");
	}

	describe("attacks", () => {
		it("another browser opening the first one's interaction URL gets no page, and cannot post to it or resume it", async () => {
			const { authorizeURL } = await pushed();
			const victim = await open(authorizeURL);
			const attacker = new Browser(base);
			const stolen = await attacker.fetch(victim.url);
			expect(stolen.status).toBe(410);
			expect(await stolen.text()).not.toContain('name="csrf"');
			// Posting with the victim's CSRF token, but from the attacker's browser (no session cookie): refused.
			nextStep(t.clock);
			const posted = await attacker.post(`${victim.url}/verify`, { csrf: victim.csrf, code: codeFor(alice.secret, t.clock()) });
			expect(posted.status).toBe(403);
			// Resuming the victim's interaction at the provider with the attacker's own cookies: no code.
			const uid = victim.url.split("/").pop()!;
			const resume = await attacker.fetch(`${issuer}/authorize/${uid}`);
			expect(resume.headers.get("location") ?? "").not.toContain("code=");
			// The victim's own session still works: the attack changed nothing.
			const callback = await backToApp(victim.browser, await verifyWithCode(victim));
			expect(callback.searchParams.get("code")).not.toBeNull();
		});

		it("an attacker's own prompt cookie replayed against the victim's interaction (its own session, the victim's provider cookie) is refused", async () => {
			const { authorizeURL: mine } = await pushed();
			const attacker = await open(mine);
			const { authorizeURL: theirs } = await pushed();
			const victim = await open(theirs);
			// The attacker holds the victim's interaction cookie (oidc-provider's) but its own __Host- session: the CSRF
			// token of its own session does not match the victim's interaction.
			const mixed = new Browser(base);
			for (const [name, value] of victim.browser.cookies) if (name !== "__Host-twofold-prompt") mixed.cookies.set(name, value);
			mixed.cookies.set("__Host-twofold-prompt", attacker.browser.cookies.get("__Host-twofold-prompt")!);
			nextStep(t.clock);
			const posted = await mixed.post(`${victim.url}/verify`, { csrf: attacker.csrf, code: codeFor(alice.secret, t.clock()) });
			expect(posted.status).toBe(403);
			expect(posted.headers.get("location")).toBeNull();
		});

		it("a form post without a CSRF token, or with another session's, is refused (403) and spends no attempt", async () => {
			const { authorizeURL } = await pushed();
			const victim = await open(authorizeURL);
			const { authorizeURL: other } = await pushed();
			const attacker = await open(other);
			nextStep(t.clock);
			const code = codeFor(alice.secret, t.clock());
			for (const form of [{ code }, { csrf: "", code }, { csrf: attacker.csrf, code }] as Record<string, string>[]) {
				const response = await victim.browser.post(`${victim.url}/verify`, form);
				expect(response.status, JSON.stringify(form)).toBe(403);
			}
			// The code was never tried: it still works in the victim's own post.
			const callback = await backToApp(victim.browser, await victim.browser.post(`${victim.url}/verify`, { csrf: victim.csrf, code }));
			expect(callback.searchParams.get("code")).not.toBeNull();
		});

		it("a client of tenant A pushing to tenant B's issuer with its credentials is invalid_client (V-17)", async () => {
			const verifier = client.randomPKCECodeVerifier();
			const response = await par(
				{ response_type: "code", client_id: clientId, scope: "openid", redirect_uri: REDIRECT, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", login_hint: "carol", nonce: "n", state: "s" },
				other.issuer,
			);
			expect(response.status).toBe(401);
			expect((await response.json()).error).toBe("invalid_client");
		});

		it("a client of tenant A naming a user of tenant B: the pages show A's user only, B's code is refused, and the result's sub/tid are A's (V-17)", async () => {
			const { verifier, authorizeURL } = await pushed({ login_hint: "carol" });
			const page = await open(authorizeURL);
			expect(page.html).not.toContain("Tenant B Bank");
			expect(page.html).not.toContain("B carol phone");
			nextStep(t.clock);
			const refused = await page.browser.post(`${page.url}/verify`, { csrf: page.csrf, code: codeFor(other.carolSecret, t.clock()) });
			expect(refused.status).toBe(422);
			expect(await refused.text()).not.toContain("B carol phone");
			const callback = await backToApp(page.browser, await page.browser.post(`${page.url}/verify`, { csrf: page.csrf, code: codeFor(carolSecret, t.clock()) }));
			const tokens = await exchange(callback, verifier);
			expect(claimsOf(tokens.json.id_token)).toMatchObject({ sub: "carol", tid: t.tenantId, iss: issuer });
			// The assertion beside it is Twofold's usual one: issued by the base URL (not the tenant issuer), for tenant A.
			expect(claimsOf(tokens.json.twofold_assertion)).toMatchObject({ iss: base, aud: t.tenantId, sub: "carol", tid: t.tenantId });
		});

		it("a login_hint longer or stranger than a user id is refused at PAR with invalid_request", async () => {
			const verifier = client.randomPKCECodeVerifier();
			const params = { response_type: "code", client_id: clientId, scope: "openid", redirect_uri: REDIRECT, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", nonce: "n", state: "s" };
			for (const hint of ["a".repeat(129), "al\u0000ice", "al\tice", "<script>", "ali\u00e9", "\u202ealice", ""]) {
				const response = await par({ ...params, login_hint: hint });
				const body = await response.json();
				if (hint === "<script>") {
					// Printable ASCII is a valid user id (as in the API); what matters is that the page escapes it: below.
					expect(response.status).toBe(201);
					continue;
				}
				expect(response.status, JSON.stringify(hint)).toBe(400);
				expect(body.error).toBe("invalid_request");
				expect(JSON.stringify(body)).not.toContain(hint.length > 0 ? hint : "\u0000");
			}
		});

		it("attacker-chosen ui_locales, branding values and client name never reach the HTML unescaped", async () => {
			// A javascript: (or data:) support link is refused by the settings; the pages also link only http(s).
			for (const support_url of ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>"]) {
				expect((await t.call("PATCH", "/v1/tenant", { prompt: { support_url } })).status, support_url).toBe(400);
			}
			const patched = await t.call("PATCH", "/v1/tenant", {
				branding: { display_name: '<script>alert("tenant")</script>' },
				prompt: { support_text: '<img src=x onerror=alert(1)> call <b>us</b>', support_url: 'https://help.example/?q="><script>alert(1)</script>' },
			});
			expect(patched.status, patched.body).toBe(200);
			const created = await t.call("POST", "/v1/clients", { name: '<img src=x onerror=alert("client")>', redirect_uris: [REDIRECT] });
			expect(created.status, created.body).toBe(201);
			const id = created.json.client.client_id as string;
			const secret = created.json.client_secret as string;
			try {
				await enrollActive(t, '<script>x</script>"');
				const { authorizeURL } = await pushed({ ui_locales: "de-x-script en", login_hint: '<script>x</script>"' }, id, secret);
				const page = await open(authorizeURL, new Browser(base), { "accept-language": '"><script>alert(1)</script>' });
				expect(page.status).toBe(200);
				const lost = await (await page.browser.fetch(`${page.url}/lost`)).text();
				for (const html of [page.html, lost]) {
					// The only elements are the page's own: its one script is the module from /prompt/assets, nothing the
					// attacker wrote opens an element, and no javascript: URL is anywhere.
					for (const tag of html.match(/<script[^>]*>/g) ?? []) expect(tag).toMatch(/^<script type="module" src="\/prompt\/assets\/[a-z-]+\.js" nonce="[A-Za-z0-9_-]+">$/);
					expect(html).not.toMatch(/<(img|b|svg|iframe)[\s>]/i);
					expect(html).not.toMatch(/javascript:|"><script/i);
					// The markup is shown as text.
					expect(html).toContain("&lt;script>alert(&quot;tenant&quot;)&lt;/script>");
				}
				expect(page.html).toContain("&lt;img src=x onerror=alert(&quot;client&quot;)>");
				expect(lost).toContain("&lt;img src=x onerror=alert(1)> call &lt;b>us&lt;/b>");
				// The support link is the https URL, its quotes and brackets percent-encoded inside the attribute.
				expect(lost).toMatch(/href="https:\/\/help\.example\/\?q=%22%3E%3Cscript%3Ealert\(1\)%3C\/script%3E"/);
				// An unknown ui_locales value is not echoed: the page is in a language Twofold has.
				expect(page.html).toMatch(/<html lang="(en|de)"/);
				expect(page.html).not.toContain("x-script");
			} finally {
				await t.call("PATCH", "/v1/tenant", { branding: { display_name: null }, prompt: { support_text: null, support_url: null } });
			}
		});

		it("the code is single use: a second exchange is invalid_grant and revokes the first's assertion", async () => {
			const { verifier, authorizeURL } = await pushed();
			const page = await open(authorizeURL);
			const callback = await backToApp(page.browser, await verifyWithCode(page));
			const first = await exchange(callback, verifier);
			expect(first.status).toBe(200);
			// What the token response holds (docs/prompt.md): the id_token, the assertion, and oidc-provider's access token,
			// short-lived and good for nothing here (no userinfo, introspection or other protected resource); no refresh token.
			expect(Object.keys(first.json).sort()).toEqual(["access_token", "expires_in", "id_token", "scope", "token_type", "twofold_assertion"]);
			expect(first.json).toMatchObject({ token_type: "Bearer", expires_in: 60, scope: "openid" });
			expect((await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${first.json.access_token}` } })).status).toBe(404);
			const second = await exchange(callback, verifier);
			expect(second.status).toBe(400);
			expect(second.json.error).toBe("invalid_grant");
			const redeem = await t.call("POST", "/v1/assertions/redeem", { assertion: first.json.twofold_assertion });
			expect(redeem.status).toBe(409);
		});

		it(`the code expires in at most ${CODE_TTL_SECONDS} s: stored with that expiry, and refused once the server's clock passed it`, async () => {
			expect(CODE_TTL_SECONDS).toBeLessThanOrEqual(60);
			const { verifier, authorizeURL } = await pushed();
			const page = await open(authorizeURL);
			const callback = await backToApp(page.browser, await verifyWithCode(page));
			const code = callback.searchParams.get("code")!;
			const issuedAt = t.clock().getTime();
			const row = await t.app.store.oidcPayloads.find(t.tenantId, "AuthorizationCode", hashId("AuthorizationCode", code), issuedAt);
			expect(row).toBeDefined();
			expect(row!.expires_at - issuedAt).toBeLessThanOrEqual(60_000);
			expect(row!.expires_at - issuedAt).toBeGreaterThan(0);
			// oidc-provider reads Date.now() for its own exp check; the store reads the server's clock (the test clock)
			// and no longer returns the code once it expired, so the exchange fails whatever the provider's clock says.
			t.clock.advance(61_000);
			const late = await exchange(callback, verifier);
			expect(late.status).toBe(400);
			expect(late.json.error).toBe("invalid_grant");
		});

		it("prompt=none is login_required (with or without max_age), and max_age=0 still needs a fresh proof on the page (there is no sign-in session)", async () => {
			const none = await pushed({ prompt: "none" });
			const response = await fetch(none.authorizeURL, { redirect: "manual" });
			expect(response.status).toBe(303);
			const location = new URL(response.headers.get("location")!);
			expect(location.searchParams.get("error")).toBe("login_required");
			expect(location.searchParams.get("code")).toBeNull();
			const noneMaxAge = await pushed({ prompt: "none", max_age: "3600" });
			const again = new URL((await fetch(noneMaxAge.authorizeURL, { redirect: "manual" })).headers.get("location")!);
			expect(again.searchParams.get("error")).toBe("login_required");
			// max_age=0 means prompt=login to oidc-provider (OIDC Core §3.1.2.1), which prompt=none contradicts.
			const noneZero = await pushed({ prompt: "none", max_age: "0" });
			const contradiction = new URL((await fetch(noneZero.authorizeURL, { redirect: "manual" })).headers.get("location")!);
			expect(contradiction.searchParams.get("error")).toBe("invalid_request");
			expect(contradiction.searchParams.get("code")).toBeNull();
			// max_age alone: the verify page, never a code without a proof, even right after a completed flow.
			const { authorizeURL } = await pushed({ max_age: "0" });
			const page = await open(authorizeURL);
			expect(page.status).toBe(200);
			expect(page.html).toContain('name="code"');
		});

		describe("acr_values asking for phishing-resistant (urn:twofold:acr:phr) when only TOTP is enrolled never yields a phr acr", () => {
			it("nothing alice holds reaches it: the page is not shown, and the application gets access_denied", async () => {
				const { params, authorizeURL } = await pushed({ acr_values: PHR });
				const browser = new Browser(base);
				const authorize = await browser.fetch(authorizeURL);
				const page = await browser.fetch(authorize.headers.get("location")!);
				const callback = await backToApp(browser, page);
				expect(callback.searchParams.get("error")).toBe("access_denied");
				expect(callback.searchParams.get("code")).toBeNull();
				expect(callback.searchParams.get("state")).toBe(params.state);
				const events = await t.call("GET", "/v1/events?type=prompt.cancelled");
				expect(events.json.events[0]).toMatchObject({ user_id: "alice", data: { client_id: clientId, reason: "policy" } });
			});

			it("phr or a recovery code accepted: no code form is offered, a posted TOTP code is refused (403) without being spent", async () => {
				const { authorizeURL } = await pushed({ acr_values: `${PHR} urn:twofold:acr:rcode` });
				const page = await open(authorizeURL);
				expect(page.status).toBe(200);
				expect(page.html).not.toContain('id="code-form"');
				nextStep(t.clock);
				const code = codeFor(alice.secret, t.clock());
				const posted = await page.browser.post(`${page.url}/verify`, { csrf: page.csrf, code });
				expect(posted.status).toBe(403);
				expect(posted.headers.get("location")).toBeNull();
				// Not spent: the same code completes a flow that accepts otp.
				const ok = await pushed();
				const okPage = await open(ok.authorizeURL);
				const done = await backToApp(okPage.browser, await okPage.browser.post(`${okPage.url}/verify`, { csrf: okPage.csrf, code }));
				expect(done.searchParams.get("code")).not.toBeNull();
				const cancelled = await backToApp(page.browser, await page.browser.post(`${page.url}/cancel`, { csrf: page.csrf }));
				expect(cancelled.searchParams.get("error")).toBe("access_denied");
			});

			it("enroll with acr_values phr for a user with TOTP: the proof before adding a factor may be the TOTP code (it is not the result), and the choice of a new factor follows", async () => {
				const { authorizeURL } = await pushed({ acr_values: PHR, intent: "enroll" });
				const page = await open(authorizeURL);
				expect(page.html).toContain('id="code-form"');
				const proved = await verifyWithCode(page);
				expect(proved.status, await proved.clone().text()).toBe(303);
				const choice = await (await page.browser.fetch(page.url)).text();
				expect(choice).toContain('name="kind" value="totp"');
				const cancelled = await backToApp(page.browser, await page.browser.post(`${page.url}/cancel`, { csrf: page.csrf }));
				expect(cancelled.searchParams.get("error")).toBe("access_denied");
			});

			it("enroll with acr_values phr, the user choosing an authenticator app: the factor is added, but the result is access_denied, not an otp or phr token", async () => {
				const { authorizeURL } = await pushed({ acr_values: PHR, intent: "enroll", login_hint: "enroll-phr" });
				const page = await open(authorizeURL);
				expect(page.status).toBe(200);
				const secret = await enrollApp(page);
				nextStep(t.clock);
				expect((await page.browser.post(`${page.url}/enroll/confirm`, { csrf: page.csrf, code: codeFor(secret, t.clock()) })).status).toBe(303);
				const callback = await backToApp(page.browser, await page.browser.post(`${page.url}/recovery-codes/saved`, { csrf: page.csrf, saved: "yes" }));
				expect(callback.searchParams.get("error")).toBe("access_denied");
				expect(callback.searchParams.get("code")).toBeNull();
			});
		});
	});

	/**
	 * The positive side of acr_values phr: a user with an app and a passkey sees only the passkey and gets a phr result.
	 * Passkeys run on the prompt only when the tenant's rp_id covers the prompt's host (core/prompt-passkeys.ts), and
	 * browsers give WebAuthn only to secure contexts: the prompt is announced at http://localhost:<port> (the issuer),
	 * while the test's requests go to 127.0.0.1 (oidc-provider builds its URLs from the issuer, not from Host). The
	 * software authenticator signs for the localhost origin, as a browser on that page would.
	 */
	describe("acr_values phr with a passkey enrolled", () => {
		let p: TestApp;
		let loopback: string;
		let localIssuer: string;
		let id: string;
		let secret: string;
		let authenticator: SoftwareAuthenticator;
		let dora = "";

		beforeAll(async () => {
			p = await buildTestApp({ dialect });
			await p.http.listen({ port: 0, host: "127.0.0.1" });
			const port = (p.http.server.address() as AddressInfo).port;
			loopback = `http://127.0.0.1:${port}`;
			const origin = `http://localhost:${port}`;
			p.app.listeningAt(origin);
			localIssuer = `${origin}/t/${p.tenantId}`;
			const patched = await p.call("PATCH", "/v1/tenant", { webauthn: { rp_id: "localhost", rp_name: "Acme", origins: [origin] } });
			expect(patched.status, patched.body).toBe(200);
			expect(patched.json.prompt_passkeys).toEqual({ usable: true });
			const created = await p.call("POST", "/v1/clients", { name: "Shop", redirect_uris: [REDIRECT] });
			id = created.json.client.client_id;
			secret = created.json.client_secret;
			dora = (await enrollActive(p, "dora")).secret;
			authenticator = new SoftwareAuthenticator("localhost", origin);
			const enrolled = await p.call("POST", "/v1/users/dora/factors", { type: "webauthn", assertion: (await p.call("POST", "/v1/users/dora/verify", { code: (nextStep(p.clock), codeFor(dora, p.clock())) })).json.assertion });
			expect(enrolled.status, enrolled.body).toBe(201);
			const confirmed = await p.call("POST", `/v1/users/dora/factors/${enrolled.json.factor.id}/confirm`, { credential: authenticator.register(enrolled.json.webauthn.options) });
			expect(confirmed.status, confirmed.body).toBe(200);
		});
		afterAll(() => p.close());

		it("the verify page offers the passkey and no code field; the passkey gives an id_token with acr phr", async () => {
			const verifier = client.randomPKCECodeVerifier();
			const pushedAt = await fetch(`${loopback}/t/${p.tenantId}/par`, {
				method: "POST",
				headers: { authorization: basic(id, secret), "content-type": "application/x-www-form-urlencoded" },
				body: new URLSearchParams({
					response_type: "code", client_id: id, scope: "openid", redirect_uri: REDIRECT, state: "st", nonce: "no",
					code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", login_hint: "dora", acr_values: PHR,
				}),
			});
			expect(pushedAt.status, await pushedAt.clone().text()).toBe(201);
			const { request_uri } = (await pushedAt.json()) as { request_uri: string };
			const browser = new Browser(loopback);
			const authorize = await browser.fetch(`/t/${p.tenantId}/authorize?${new URLSearchParams({ client_id: id, request_uri })}`);
			expect(authorize.status).toBe(303);
			const url = authorize.headers.get("location")!;
			const html = await (await browser.fetch(url)).text();
			expect(html).not.toContain('id="code-form"');
			const options = /data-passkey="authenticate" data-options="([^"]+)"/.exec(html);
			const challenge = /name="challenge_id" value="([^"]+)"/.exec(html);
			expect(options, html).not.toBeNull();
			const parsed = JSON.parse(options![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, "&")) as { challenge: string };
			const posted = await browser.post(`${url}/verify`, { csrf: csrfOf(html), challenge_id: challenge![1]!, credential: JSON.stringify(authenticator.assert(parsed)) });
			expect(posted.status, await posted.clone().text()).toBe(303);
			const resume = await browser.fetch(posted.headers.get("location")!);
			expect(resume.status).toBe(303);
			const callback = new URL(resume.headers.get("location")!);
			expect(callback.searchParams.get("iss")).toBe(localIssuer);
			const token = await fetch(`${loopback}/t/${p.tenantId}/token`, {
				method: "POST",
				headers: { authorization: basic(id, secret), "content-type": "application/x-www-form-urlencoded" },
				body: new URLSearchParams({ grant_type: "authorization_code", code: callback.searchParams.get("code")!, redirect_uri: REDIRECT, code_verifier: verifier }),
			});
			const tokens = (await token.json()) as { id_token: string; twofold_assertion: string };
			expect(token.status, JSON.stringify(tokens)).toBe(200);
			expect(claimsOf(tokens.id_token)).toMatchObject({ iss: localIssuer, sub: "dora", acr: PHR });
			expect(claimsOf(tokens.id_token).amr).toContain("user");
		});
	});
});
