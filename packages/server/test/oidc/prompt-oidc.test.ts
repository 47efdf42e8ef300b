import { spawnSync } from "node:child_process";
import type { AddressInfo } from "node:net";
import { actionHash } from "@twofold/sdk/action-hash";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashId } from "../../src/oidc/adapter.js";
import { buildTestApp, codeFor, DIALECTS, enrollActive, expectNotDecodable, IN_CI, nextStep, type TestApp } from "../helpers.js";
import { Browser } from "../prompt-browser.js";

/** PyJWT from Debian: an independent check of the id_token against the issuer's JWKS (as test/http/assertions.test.ts). */
const PYTHON = "/usr/bin/python3";
const PYJWT = spawnSync(PYTHON, ["-c", "import jwt, cryptography"]).status === 0;
if (!PYJWT && IN_CI) throw new Error("PyJWT is required under CI=true (Debian packages python3-jwt python3-cryptography)");

const REDIRECT = "http://127.0.0.1:9/callback";


/**
 * The hosted prompt's OpenID Connect side (issue 15) on real HTTP: openid-client configured only from discovery, PyJWT
 * on the id_token, and the attacks of the issue, each a test. The interaction is completed by a route this test
 * registers, which does a real verify through services.verifications.verify and ends it through the seam's finish
 * (the real pages replace it in their own tests).
 */
describe.each(DIALECTS)("hosted prompt, OpenID Connect (%s)", (dialect) => {
	let t: TestApp;
	let base: string;
	let issuer: string;
	let clientId: string;
	let clientSecret: string;
	const logs: string[] = [];
	const secrets = new Map<string, string>();

	const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;

	async function par(params: Record<string, string>, id = clientId, secret = clientSecret, at = issuer): Promise<Response> {
		return fetch(`${at}/par`, {
			method: "POST",
			headers: { authorization: basic(id, secret), "content-type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams(params),
		});
	}

	const pkce = async () => {
		const verifier = client.randomPKCECodeVerifier();
		return { verifier, challenge: await client.calculatePKCECodeChallenge(verifier) };
	};

	async function goodParams(extra: Record<string, string> = {}) {
		const { verifier, challenge } = await pkce();
		const params = {
			response_type: "code",
			client_id: clientId,
			scope: "openid",
			redirect_uri: REDIRECT,
			state: client.randomState(),
			nonce: client.randomNonce(),
			code_challenge: challenge,
			code_challenge_method: "S256",
			login_hint: "alice",
			...extra,
		};
		return { params, verifier };
	}

	/** PAR, then the browser to /authorize, the test's interaction route, and back: the callback URL with code, state and iss. */
	async function runFlow(requestURI: string, body: Record<string, unknown> = {}, id = clientId): Promise<URL> {
		const browser = new Browser(base);
		const authorize = await browser.fetch(`${issuer}/authorize?${new URLSearchParams({ client_id: id, request_uri: requestURI })}`);
		expect(authorize.status, await authorize.clone().text()).toBe(303);
		const interaction = authorize.headers.get("location")!;
		expect(interaction).toMatch(new RegExp(`^/t/${t.tenantId}/interaction/[A-Za-z0-9_-]+$`));
		const finished = await browser.fetch(`${interaction}/test-finish`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
		expect(finished.status, await finished.clone().text()).toBe(303);
		const resume = await browser.fetch(finished.headers.get("location")!);
		expect(resume.status, await resume.clone().text()).toBe(303);
		return new URL(resume.headers.get("location")!);
	}

	const alice = { secret: "" };

	beforeAll(async () => {
		t = await buildTestApp({
			dialect,
			logger: { level: "debug", stream: { write: (line: string) => logs.push(line) } },
		});
		// Stands in for the pages: a real verify through the services, then the seam's finish.
		t.http.post("/t/:tenant/interaction/:uid/test-finish", async (request, reply) => {
			reply.hijack();
			try {
				const body = (request.body ?? {}) as { deny?: boolean; allow?: boolean; code?: string };
				const { request: prompt, ctx } = await t.app.oidc.prompt.load(request.raw, reply.raw);
				if (body.deny === true) return await t.app.oidc.prompt.finish(request.raw, reply.raw, { result: "denied", reason: "cancelled", description: "The user cancelled." });
				if (body.allow === true) return await t.app.oidc.prompt.finish(request.raw, reply.raw, { result: "no_factor_allowed" });
				nextStep(t.clock);
				const verified = await t.app.services.verifications.verify(ctx, prompt.userId, {
					code: body.code ?? codeFor(alice.secret, t.clock()),
					...(prompt.action === null ? {} : { action: prompt.action.action }),
				});
				await t.app.oidc.prompt.finish(request.raw, reply.raw, { result: "verified", method: verified.method, assertion: verified.assertion });
			} catch (error) {
				reply.raw.statusCode = 500;
				reply.raw.end(String(error));
			}
		});
		await t.http.listen({ port: 0, host: "127.0.0.1" });
		base = `http://127.0.0.1:${(t.http.server.address() as AddressInfo).port}`;
		t.app.listeningAt(base);
		issuer = `${base}/t/${t.tenantId}`;
		const created = await t.call("POST", "/v1/clients", { name: "Shop <b>", redirect_uris: [REDIRECT] });
		expect(created.status, created.body).toBe(201);
		clientId = created.json.client.client_id;
		clientSecret = created.json.client_secret;
		secrets.set(clientId, clientSecret);
		alice.secret = (await enrollActive(t, "alice")).secret;
	});
	afterAll(() => t.close());

	it("openid-client, configured only from discovery, completes PAR → authorize → code → token and validates the id_token (RS256)", async () => {
		const config = await client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretBasic(clientSecret), { execute: [client.allowInsecureRequests] });
		client.enableNonRepudiationChecks(config);
		const metadata = config.serverMetadata();
		expect(metadata.issuer).toBe(issuer);
		expect(metadata.require_pushed_authorization_requests).toBe(true);
		expect(metadata.code_challenge_methods_supported).toEqual(["S256"]);
		expect(metadata.response_types_supported).toEqual(["code"]);
		expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
		expect(metadata.authorization_endpoint).toBe(`${issuer}/authorize`);
		expect(metadata.userinfo_endpoint).toBeUndefined();
		const { verifier, challenge } = await pkce();
		const nonce = client.randomNonce();
		const state = client.randomState();
		const url = await client.buildAuthorizationUrlWithPAR(config, { redirect_uri: REDIRECT, scope: "openid", code_challenge: challenge, code_challenge_method: "S256", nonce, state, login_hint: "alice", intent: "verify" });
		const callback = await runFlow(url.searchParams.get("request_uri")!);
		expect(callback.origin + callback.pathname).toBe(REDIRECT);
		expect(callback.searchParams.get("iss")).toBe(issuer);
		const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
		const claims = tokens.claims()!;
		expect(claims).toMatchObject({ iss: issuer, aud: clientId, sub: "alice", nonce, tid: t.tenantId, acr: "urn:twofold:acr:otp", amr: ["otp"] });
		expect(typeof claims.auth_time).toBe("number");
		expect(claims.action_hash).toBeUndefined();
		// The usual step-up assertion beside it, redeemable once.
		const assertion = (tokens as unknown as { twofold_assertion: string }).twofold_assertion;
		expect(typeof assertion).toBe("string");
		const redeemed = await t.call("POST", "/v1/assertions/redeem", { assertion });
		expect(redeemed.status, redeemed.body).toBe(200);
		expect(redeemed.json.sub).toBe("alice");

		// PyJWT checks the same id_token against the issuer's JWKS, independently of jose.
		if (!PYJWT) return;
		const jwks = await (await fetch(`${issuer}/jwks`)).text();
		const script = [
			"import jwt, json, sys",
			"keys = jwt.PyJWKSet.from_json(sys.argv[1])",
			"token = sys.argv[2]",
			"kid = jwt.get_unverified_header(token)['kid']",
			"key = [k for k in keys.keys if k.key_id == kid][0]",
			"claims = jwt.decode(token, key.key, algorithms=['RS256'], audience=sys.argv[3], issuer=sys.argv[4])",
			"print(json.dumps(claims))",
		].join("\n");
		const run = spawnSync(PYTHON, ["-c", script, jwks, tokens.id_token!, clientId, issuer], { encoding: "utf8" });
		expect(run.status, run.stderr).toBe(0);
		expect(JSON.parse(run.stdout)).toMatchObject({ sub: "alice", tid: t.tenantId, acr: "urn:twofold:acr:otp" });
	});

	async function exchange(callback: URL, verifier: string, id = clientId, secret = clientSecret): Promise<{ status: number; json: any }> {
		const response = await fetch(`${issuer}/token`, {
			method: "POST",
			headers: { authorization: basic(id, secret), "content-type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams({ grant_type: "authorization_code", code: callback.searchParams.get("code")!, redirect_uri: REDIRECT, code_verifier: verifier }),
		});
		return { status: response.status, json: await response.json() };
	}

	it("an action sent as authorization_details (twofold_action) is bound: the id_token and the assertion carry its canonical hash", async () => {
		const action = { type: "change_email", to: "new@example.com" };
		const { params, verifier } = await goodParams({ authorization_details: JSON.stringify([{ type: "twofold_action", action, description: "Change your email" }]) });
		const pushed = await par(params);
		expect(pushed.status).toBe(201);
		const callback = await runFlow((await pushed.json()).request_uri);
		const tokens = await exchange(callback, verifier);
		expect(tokens.status, JSON.stringify(tokens.json)).toBe(200);
		const idToken = JSON.parse(Buffer.from(tokens.json.id_token.split(".")[1], "base64url").toString());
		const hash = await actionHash(action);
		expect(idToken.action_hash).toBe(hash);
		const assertion = JSON.parse(Buffer.from(tokens.json.twofold_assertion.split(".")[1], "base64url").toString());
		expect(assertion.action_hash).toBe(hash);
	});

	it("a code used twice: invalid_grant, and the assertion issued through its first use is refused by /v1/assertions/redeem", async () => {
		const { params, verifier } = await goodParams();
		const callback = await runFlow((await (await par(params)).json()).request_uri);
		const first = await exchange(callback, verifier);
		expect(first.status).toBe(200);
		const second = await exchange(callback, verifier);
		expect(second.status).toBe(400);
		expect(second.json.error).toBe("invalid_grant");
		const redeem = await t.call("POST", "/v1/assertions/redeem", { assertion: first.json.twofold_assertion });
		expect(redeem.status).toBe(409);
		expect(redeem.json.error.code).toBe("assertion_redeemed");
	});

	it("an authorization code is stored under its hash, and its row holds no copy of it", async () => {
		const { params } = await goodParams();
		const callback = await runFlow((await (await par(params)).json()).request_uri);
		const code = callback.searchParams.get("code")!;
		const now = t.clock().getTime();
		const row = await t.app.store.oidcPayloads.find(t.tenantId, "AuthorizationCode", hashId("AuthorizationCode", code), now);
		expect(row).toBeDefined();
		expect(row!.id_hash).not.toContain(code);
		expectNotDecodable(row!.payload, [code]);
		expect(await t.app.store.oidcPayloads.find(t.tenantId, "AuthorizationCode", code, now)).toBeUndefined();
	});

	it("a wrong code_verifier is invalid_grant", async () => {
		const { params } = await goodParams();
		const callback = await runFlow((await (await par(params)).json()).request_uri);
		const wrong = await exchange(callback, client.randomPKCECodeVerifier());
		expect(wrong.status).toBe(400);
		expect(wrong.json.error).toBe("invalid_grant");
	});

	it("an unregistered or altered redirect_uri is refused at PAR", async () => {
		for (const redirect of ["http://127.0.0.1:9/other", `${REDIRECT}/x`, `${REDIRECT}?x=1`, "https://attacker.example/callback"]) {
			const { params } = await goodParams({ redirect_uri: redirect });
			const response = await par(params);
			expect(response.status, redirect).toBe(400);
			// RFC 9126 §2.3: a PAR endpoint answers invalid_request for a redirect_uri that is not registered.
			expect((await response.json()).error).toBe("invalid_request");
		}
	});

	it("an authorization request without PAR is refused, and never reaches the redirect URI with a code", async () => {
		const { params } = await goodParams();
		const response = await fetch(`${issuer}/authorize?${new URLSearchParams(params)}`, { redirect: "manual" });
		const location = response.headers.get("location") ?? "";
		expect(location).not.toContain("code=");
		if (response.status === 303) expect(new URL(location).searchParams.get("error")).toBe("invalid_request");
		else expect(response.status).toBe(400);
	});

	it("PAR without PKCE, or with plain, is refused", async () => {
		const { params } = await goodParams();
		const { code_challenge: _c, code_challenge_method: _m, ...without } = params;
		const missing = await par(without);
		expect(missing.status).toBe(400);
		expect((await missing.json()).error).toBe("invalid_request");
		const plain = await par({ ...params, code_challenge_method: "plain", code_challenge: client.randomPKCECodeVerifier() });
		expect(plain.status).toBe(400);
		expect((await plain.json()).error).toBe("invalid_request");
	});

	it("an expired request_uri is refused", async () => {
		const { params } = await goodParams();
		const { request_uri } = await (await par(params)).json();
		t.clock.advance(61_000);
		const browser = new Browser(base);
		const response = await browser.fetch(`${issuer}/authorize?${new URLSearchParams({ client_id: clientId, request_uri })}`);
		const location = response.headers.get("location") ?? "";
		expect(location).not.toContain("/interaction/");
		expect(location).not.toContain("code=");
		expect(response.status === 400 || new URL(location, base).searchParams.get("error") === "invalid_request_uri").toBe(true);
	});

	it("a client of tenant A is unknown at tenant B's issuer, and tenant B's admin key cannot see or change it", async () => {
		const other = await t.app.services.tenants.create("other");
		const otherIssuer = `${base}/t/${other.tenant.id}`;
		const { params } = await goodParams();
		const response = await par(params, clientId, clientSecret, otherIssuer);
		expect(response.status).toBe(401);
		expect((await response.json()).error).toBe("invalid_client");
		expect((await t.call("GET", `/v1/clients/${clientId}`, undefined, other.apiKey)).status).toBe(404);
		expect((await t.call("PATCH", `/v1/clients/${clientId}`, { name: "mine" }, other.apiKey)).status).toBe(404);
		expect((await t.call("DELETE", `/v1/clients/${clientId}`, undefined, other.apiKey)).status).toBe(404);
		expect((await t.call("GET", "/v1/clients", undefined, other.apiKey)).json.clients).toEqual([]);
	});

	it("login_hint missing, longer than a user id or with characters a user id cannot have is invalid_request", async () => {
		const { params } = await goodParams();
		const { login_hint: _h, ...missing } = params;
		for (const bad of [missing, { ...params, login_hint: "a".repeat(129) }, { ...params, login_hint: "al\nice" }, { ...params, login_hint: "älice" }]) {
			const response = await par(bad);
			expect(response.status).toBe(400);
			expect((await response.json()).error).toBe("invalid_request");
		}
	});

	it("intent other than verify, enroll or manage, and malformed authorization_details, are invalid_request", async () => {
		const bad: Record<string, string>[] = [
			{ intent: "bogus" },
			{ authorization_details: "not json" },
			{ authorization_details: JSON.stringify([{ type: "payment", action: {}, description: "x" }]) },
			{ authorization_details: JSON.stringify([{ type: "twofold_action", action: [], description: "x" }]) },
			{ authorization_details: JSON.stringify([{ type: "twofold_action", action: {}, description: "" }]) },
			{ authorization_details: JSON.stringify([{ type: "twofold_action", action: {}, description: "x", extra: 1 }]) },
		];
		for (const extra of bad) {
			const { params } = await goodParams(extra);
			const response = await par(params);
			expect(response.status, JSON.stringify(extra)).toBe(400);
			expect((await response.json()).error).toBe("invalid_request");
		}
	});

	it("prompt=none answers login_required: there is no sign-in session to reuse", async () => {
		const { params } = await goodParams({ prompt: "none" });
		const { request_uri } = await (await par(params)).json();
		const response = await fetch(`${issuer}/authorize?${new URLSearchParams({ client_id: clientId, request_uri })}`, { redirect: "manual" });
		expect(response.status).toBe(303);
		const location = new URL(response.headers.get("location")!);
		expect(location.searchParams.get("error")).toBe("login_required");
		expect(location.searchParams.get("iss")).toBe(issuer);
	});

	it("a cancelled prompt returns access_denied and records prompt.cancelled with the client id", async () => {
		const { params } = await goodParams();
		const callback = await runFlow((await (await par(params)).json()).request_uri, { deny: true });
		expect(callback.searchParams.get("error")).toBe("access_denied");
		expect(callback.searchParams.get("code")).toBeNull();
		const events = await t.call("GET", "/v1/events?type=prompt.cancelled");
		expect(events.json.events[0]).toMatchObject({ type: "prompt.cancelled", user_id: "alice", data: { client_id: clientId, reason: "cancelled" } });
	});

	it("no_factor_allowed: acr urn:twofold:acr:none, amr empty, and no twofold_assertion", async () => {
		const { params, verifier } = await goodParams();
		const callback = await runFlow((await (await par(params)).json()).request_uri, { allow: true });
		const tokens = await exchange(callback, verifier);
		expect(tokens.status).toBe(200);
		expect(tokens.json.twofold_assertion).toBeUndefined();
		const idToken = JSON.parse(Buffer.from(tokens.json.id_token.split(".")[1], "base64url").toString());
		expect(idToken.acr).toBe("urn:twofold:acr:none");
		expect(idToken.amr ?? []).toEqual([]);
		const events = await t.call("GET", "/v1/events?type=prompt.completed");
		expect(events.json.events[0].data).toMatchObject({ client_id: clientId, result: "no_factor_allowed" });
	});

	it("an EdDSA client gets an EdDSA id_token, checked against the JWKS", async () => {
		const created = await t.call("POST", "/v1/clients", { name: "Ed", redirect_uris: [REDIRECT], id_token_signed_response_alg: "EdDSA", token_endpoint_auth_method: "client_secret_post" });
		expect(created.status).toBe(201);
		const id = created.json.client.client_id;
		const secret = created.json.client_secret;
		secrets.set(id, secret);
		const config = await client.discovery(new URL(issuer), id, { id_token_signed_response_alg: "EdDSA" }, client.ClientSecretPost(secret), { execute: [client.allowInsecureRequests] });
		client.enableNonRepudiationChecks(config);
		const { verifier, challenge } = await pkce();
		const nonce = client.randomNonce();
		const url = await client.buildAuthorizationUrlWithPAR(config, { redirect_uri: REDIRECT, scope: "openid", code_challenge: challenge, code_challenge_method: "S256", nonce, login_hint: "alice" });
		const callback = await runFlow(url.searchParams.get("request_uri")!, {}, id);
		const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
		expect(JSON.parse(Buffer.from(tokens.id_token!.split(".")[0]!, "base64url").toString()).alg).toBe("EdDSA");
		expect(tokens.claims()!.sub).toBe("alice");
	});

	it("registration refuses jwks_uri with a clear error, and insecure redirect URIs", async () => {
		const refused = await t.call("POST", "/v1/clients", { name: "K", redirect_uris: [REDIRECT], token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://example.com/jwks" });
		expect(refused.status).toBe(400);
		expect(refused.json.error.details).toEqual([{ in: "body", pointer: "/jwks_uri", message: expect.stringContaining("outbound") }]);
		for (const uri of ["http://example.com/cb", "https://example.com/cb#frag", "https://user:pw@example.com/cb", "not a uri"]) {
			const response = await t.call("POST", "/v1/clients", { name: "K", redirect_uris: [uri] });
			expect(response.status, uri).toBe(400);
		}
	});

	it("the client secret appears in no response after creation, in no database column and in no log line", async () => {
		const listed = await t.call("GET", "/v1/clients");
		const single = await t.call("GET", `/v1/clients/${clientId}`);
		for (const secret of secrets.values()) {
			expect(listed.body).not.toContain(secret);
			expect(single.body).not.toContain(secret);
			expect(logs.join("\n")).not.toContain(secret);
		}
		expect(logs.length, "the request log was captured").toBeGreaterThan(10);
		const rows = await t.app.store.clients.list(t.tenantId);
		expect(rows.length).toBeGreaterThan(0);
		for (const row of rows) {
			for (const value of Object.values(row)) {
				if (typeof value === "string") expectNotDecodable(value, [...secrets.values()]);
			}
		}
	});
});
