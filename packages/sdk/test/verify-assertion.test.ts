import { createHmac, generateKeyPairSync, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, enrollActive, nextStep, type TestApp, testClock } from "../../server/test/helpers.js";
import { ACR, actionHash, AssertionError, type AssertionFailure, createVerifier, DEFAULT_ACR_VALUES, requestAction } from "../src/index.js";

const ISSUER = "http://127.0.0.1:8080"; // the test app's configured issuer; its JWKS is fetched from where it really listens
const b64 = (value: unknown): string => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/**
 * The SDK verifier against real assertions from a real Twofold (its JWKS over
 * loopback HTTP), and the R-AS-2 / V-10 tamper list, one test each: every one
 * of these must be refused.
 */
describe("verifyAssertion (R-AS-1, R-AS-2, V-10)", () => {
	let t: TestApp;
	let jwksUrl: string;
	let good: string;
	let claims: Record<string, unknown>;
	let header: Record<string, unknown>;
	let realKey: { kid: string; privateKey: KeyObject };
	let verifier: ReturnType<typeof createVerifier>;
	const attacker = generateKeyPairSync("ed25519");
	// A server that records whether anything fetched a key from where a token pointed (jku/x5u).
	let lure: Server;
	let lureHits = 0;
	let lureUrl: string;

	const refusedWith = async (token: string, reason: AssertionFailure, options: Parameters<typeof verifier.verify>[1] = {}) => {
		const error = await verifier.verify(token, options).then(
			() => null,
			(e: unknown) => e,
		);
		expect(error).toBeInstanceOf(AssertionError);
		expect((error as AssertionError).reason).toBe(reason);
	};
	/** A token signed with Twofold's real key: only the claim or header checks can catch what is wrong with it. */
	const signedByTwofold = (payload: Record<string, unknown>, protectedHeader: Record<string, unknown> = header) =>
		new SignJWT(payload).setProtectedHeader(protectedHeader as never).sign(realKey.privateKey);

	beforeAll(async () => {
		// Twofold's clock starts a minute behind, so nextStep (up to 31 s ahead) still leaves iat in the verifier's past.
		t = await buildTestApp({ clock: testClock(Date.now() - 60_000) });
		const address = await t.http.listen({ host: "127.0.0.1", port: 0 });
		jwksUrl = `${address}/.well-known/jwks.json`;
		verifier = createVerifier({ issuer: ISSUER, tenant: t.tenantId, jwksUrl, jwksCooldownMs: 0 });
		const { secret } = await enrollActive(t, "sdk-user");
		nextStep(t.clock);
		good = (await t.call("POST", "/v1/users/sdk-user/verify", { code: codeFor(secret, t.clock()) })).json.assertion;
		const [h, p] = good.split(".");
		header = JSON.parse(Buffer.from(h!, "base64url").toString());
		claims = JSON.parse(Buffer.from(p!, "base64url").toString());
		realKey = await t.app.services.deps.signingKeys.active();
		lure = createServer((_req, res) => {
			lureHits++;
			res.end(JSON.stringify({ keys: [{ ...(attacker.publicKey.export({ format: "jwk" }) as object), kid: "attacker", alg: "EdDSA" }] }));
		});
		await new Promise<void>((resolve) => lure.listen(0, "127.0.0.1", resolve));
		lureUrl = `http://127.0.0.1:${(lure.address() as AddressInfo).port}/jwks.json`;
	});
	afterAll(async () => {
		await new Promise((resolve) => lure.close(resolve));
		await t.close();
	});

	it("accepts Twofold's assertion, fetched keys and all", async () => {
		const verified = await verifier.verify(good, { userId: "sdk-user" });
		expect(verified).toMatchObject({ sub: "sdk-user", aud: t.tenantId, amr: ["otp"], acr: "urn:twofold:acr:otp" });
	});

	it("refuses alg:none", async () => {
		await refusedWith(`${b64({ alg: "none", typ: "twofold-assertion+jwt" })}.${b64(claims)}.`, "alg_not_allowed");
	});

	it("refuses HS256 signed with the public key as the HMAC secret (key confusion)", async () => {
		const jwk = JSON.parse((await (await fetch(jwksUrl)).text())).keys[0];
		for (const secret of [Buffer.from(jwk.x, "base64url"), Buffer.from(JSON.stringify(jwk))]) {
			const input = `${b64({ alg: "HS256", typ: "twofold-assertion+jwt", kid: header.kid })}.${b64(claims)}`;
			await refusedWith(`${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`, "alg_not_allowed");
		}
	});

	it("refuses a foreign kid, and a foreign key posing under Twofold's kid", async () => {
		const foreign = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "twofold-assertion+jwt", kid: "attacker" }).sign(attacker.privateKey);
		await refusedWith(foreign, "unknown_kid");
		const posing = await new SignJWT(claims).setProtectedHeader({ ...header, alg: "EdDSA" } as never).sign(attacker.privateKey);
		await refusedWith(posing, "bad_signature");
	});

	it("ignores jku and x5u: a key is never fetched from where the token points", async () => {
		for (const pointer of [{ jku: lureUrl }, { x5u: lureUrl }]) {
			const token = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "twofold-assertion+jwt", kid: "attacker", ...pointer }).sign(attacker.privateKey);
			await refusedWith(token, "unknown_kid");
		}
		expect(lureHits).toBe(0);
	});

	it("ignores an embedded jwk header", async () => {
		const jwk = await exportJWK(attacker.publicKey);
		const token = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "twofold-assertion+jwt", jwk }).sign(attacker.privateKey);
		await refusedWith(token, "bad_signature");
	});

	it("refuses a claim changed under the signature (sub, aud or amr flipped)", async () => {
		const [h, , s] = good.split(".");
		for (const change of [{ sub: "admin" }, { aud: "ten_other" }, { amr: ["hwk", "user"] }, { acr: "urn:twofold:acr:phr" }]) {
			await refusedWith(`${h}.${b64({ ...claims, ...change })}.${s}`, "bad_signature");
		}
	});

	it("refuses a stripped signature", async () => {
		const [h, p] = good.split(".");
		await refusedWith(`${h}.${p}.`, "bad_signature");
		await refusedWith(`${h}.${p}`, "malformed");
	});

	it("refuses exp in the past", async () => {
		const now = Math.floor(Date.now() / 1000);
		await refusedWith(await signedByTwofold({ ...claims, iat: now - 600, auth_time: now - 600, exp: now - 60 }), "expired");
	});

	it("refuses nbf in the future", async () => {
		await refusedWith(await signedByTwofold({ ...claims, nbf: Math.floor(Date.now() / 1000) + 600 }), "not_yet_valid");
	});

	it("refuses a wrong audience (another tenant) and a wrong issuer", async () => {
		await refusedWith(await signedByTwofold({ ...claims, aud: "ten_someone_else" }), "audience_mismatch");
		await refusedWith(await signedByTwofold({ ...claims, iss: "https://evil.example" }), "issuer_mismatch");
	});

	it("refuses another tenant's assertion even under a shared audience name (tid is checked)", async () => {
		const named = createVerifier({ issuer: ISSUER, tenant: t.tenantId, audience: "https://api.example.com", jwksUrl });
		const ours = await signedByTwofold({ ...claims, aud: "https://api.example.com" });
		await expect(named.verify(ours)).resolves.toMatchObject({ tid: t.tenantId });
		const theirs = await signedByTwofold({ ...claims, aud: "https://api.example.com", tid: "ten_someone_else" });
		const error = await named.verify(theirs).catch((e: unknown) => e);
		expect(error).toMatchObject({ reason: "wrong_tenant" });
		expect((error as Error).message).toContain("another tenant");
	});

	it("refuses a wrong or missing typ (another JWT from the same issuer posing as an assertion)", async () => {
		await refusedWith(await signedByTwofold(claims, { alg: "EdDSA", kid: realKey.kid, typ: "JWT" }), "wrong_type");
		await refusedWith(await signedByTwofold(claims, { alg: "EdDSA", kid: realKey.kid }), "wrong_type");
	});

	it("refuses an assertion missing a required claim", async () => {
		for (const name of ["jti", "auth_time", "amr", "acr", "sub"]) {
			const { [name]: _dropped, ...rest } = claims;
			await refusedWith(await signedByTwofold(rest), "malformed");
		}
	});

	it("refuses a second factor verified longer ago than maxAge (RFC 9470 max_age)", async () => {
		const now = Math.floor(Date.now() / 1000);
		await refusedWith(await signedByTwofold({ ...claims, auth_time: now - 120 }), "too_old", { maxAge: 60 });
	});

	it("max_age allows exactly the clock leeway and no more; no token at all is 'missing' (issue 20: mutation survivors)", async () => {
		// The verifier's clock pinned ten seconds after issue, well inside the assertion's life.
		const now = (claims.iat as number) + 10;
		const at = { maxAge: 60, currentDate: new Date(now * 1000) };
		const leeway = 5;
		await expect(verifier.verify(await signedByTwofold({ ...claims, auth_time: now - 60 - leeway }), at)).resolves.toMatchObject({ sub: "sdk-user" });
		await refusedWith(await signedByTwofold({ ...claims, auth_time: now - 60 - leeway - 1 }), "too_old", at);
		await refusedWith("", "missing");
		await refusedWith(undefined as unknown as string, "missing");
	});

	it("judges time by the verifier's clock with the leeway, takes the issuer with trailing slashes, and refuses mistyped claims (issue 20: mutation survivors)", async () => {
		const exp = claims.exp as number;
		const at = (seconds: number) => createVerifier({ issuer: ISSUER, tenant: t.tenantId, jwksUrl, now: () => new Date(seconds * 1000) });
		// The verifier's own clock (options.now) decides expiry, not the machine's, with 5 s of leeway either way.
		await expect(at(exp + 3).verify(good)).resolves.toMatchObject({ sub: "sdk-user" });
		expect(await at(exp + 60).verify(good).catch((e: AssertionError) => e.reason)).toBe("expired");
		const slashes = createVerifier({ issuer: `${ISSUER}//`, tenant: t.tenantId, jwksUrl });
		await expect(slashes.verify(good)).resolves.toMatchObject({ iss: ISSUER });
		for (const mistyped of [{ auth_time: String(claims.auth_time) }, { amr: "otp" }, { acr: 1 }, { sub: 42 }]) {
			const error = await verifier.verify(await signedByTwofold({ ...claims, ...mistyped })).catch((e: AssertionError) => e);
			expect(error, JSON.stringify(mistyped)).toMatchObject({ reason: "malformed" });
			expect((error as Error).message, JSON.stringify(mistyped)).toMatch(/malformed/);
		}
	});

	it("refuses another user's assertion", async () => {
		await refusedWith(good, "wrong_user", { userId: "someone-else" });
	});

	it("refuses an acr below the required one", async () => {
		await refusedWith(good, "insufficient_acr", { acrValues: ["urn:twofold:acr:phr"] });
	});

	it("refuses a low-assurance or unknown acr unless the check names it (insufficient_acr by default, R-EM-1)", async () => {
		const email = await signedByTwofold({ ...claims, acr: ACR.email, amr: ["email"] });
		await refusedWith(email, "insufficient_acr");
		await refusedWith(await signedByTwofold({ ...claims, acr: "urn:twofold:acr:future-low" }), "insufficient_acr");
		await expect(verifier.verify(email, { acrValues: [...DEFAULT_ACR_VALUES, ACR.email] })).resolves.toMatchObject({ acr: ACR.email });
		await expect(verifier.verify(good)).resolves.toMatchObject({ acr: ACR.otp });
	});

	it("binds an action: refused for another action, or where no action is checked", async () => {
		const action = { method: "POST", path: "/account/email" };
		const bound = await signedByTwofold({ ...claims, action_hash: await actionHash(action) });
		await expect(verifier.verify(bound, { action })).resolves.toMatchObject({ sub: "sdk-user" });
		await refusedWith(bound, "wrong_action", { action: { method: "POST", path: "/account/delete" } });
		await refusedWith(bound, "wrong_action");
		await refusedWith(good, "wrong_action", { action });
	});

	it("refuses an assertion issued in the future beyond the clock leeway, even by Twofold's own key (R-AS-2, R-AS-3, issue 12)", async () => {
		let now = Math.floor(Date.now() / 1000);
		// A node whose clock runs 10 minutes ahead: its assertion would outlive its exp-iat and pass max_age later.
		const ahead = t.clock().getTime();
		t.clock.set(Date.now() + 600_000);
		try {
			const { secret } = await enrollActive(t, "sdk-ahead");
			nextStep(t.clock);
			const fromTheFuture = (await t.call("POST", "/v1/users/sdk-ahead/verify", { code: codeFor(secret, t.clock()) })).json.assertion;
			await refusedWith(fromTheFuture, "not_yet_valid");
			expect(await verifier.verify(fromTheFuture).catch((e: Error) => e.message)).toContain("issued in the future");
		} finally {
			t.clock.set(ahead);
		}
		now = Math.floor(Date.now() / 1000);
		await refusedWith(await signedByTwofold({ ...claims, iat: now + 60 }), "not_yet_valid");
		await refusedWith(await signedByTwofold({ ...claims, iat: now + 30, auth_time: now }), "not_yet_valid");
		await refusedWith(await signedByTwofold({ ...claims, iat: now, auth_time: now + 60 }), "not_yet_valid");
		await refusedWith(await signedByTwofold({ ...claims, iat: "soon" }), "malformed");
		// Within the 5 s leeway (clocks a little apart): accepted.
		await expect(verifier.verify(await signedByTwofold({ ...claims, iat: now + 3, auth_time: now + 3, exp: now + 300 }))).resolves.toMatchObject({ sub: "sdk-user" });
	});

	it("binds the query string: DELETE /tokens?id=1 does not approve ?id=2; pairs are sorted, so order and encoding do not matter (issue 12)", async () => {
		const one = await requestAction("DELETE", "/tokens?id=1", undefined);
		expect(one).toMatchObject({ v: 2, method: "DELETE", path: "/tokens", query: [["id", "1"]] });
		const bound = await signedByTwofold({ ...claims, action_hash: await actionHash(one) });
		await expect(verifier.verify(bound, { action: await requestAction("delete", "/tokens?id=1", undefined) })).resolves.toMatchObject({ sub: "sdk-user" });
		await refusedWith(bound, "wrong_action", { action: await requestAction("DELETE", "/tokens?id=2", undefined) });
		await refusedWith(bound, "wrong_action", { action: await requestAction("DELETE", "/tokens", undefined) });
		await refusedWith(bound, "wrong_action", { action: await requestAction("DELETE", "/tokens?id=1&id=2", undefined) });
		await refusedWith(bound, "wrong_action", { action: await requestAction("DELETE", "/tokens?id=1&all=true", undefined) });
		// The method is upper-cased in ASCII only: "poſt" (U+017F) is no HTTP method, not "POST".
		await expect(requestAction("po\u017ft", "/x", undefined)).rejects.toThrow("not an HTTP token");
		expect("po\u017ft".toUpperCase()).toBe("POST");
		const many = await requestAction("GET", "/x?b=2&a=%31&a=0&c=x+y", undefined);
		expect(many.query).toEqual([["a", "0"], ["a", "1"], ["b", "2"], ["c", "x y"]]);
		expect(await actionHash(many)).toBe(await actionHash(await requestAction("GET", "/x?c=x%20y&a=1&b=2&a=0", undefined)));
	});

	it("refuses an assertion bound with an older SDK's action format, saying so (issue 12)", async () => {
		const body = { email: "new@example.com" };
		const current = await requestAction("POST", "/account/email?notify=1", body);
		// What SDK 0.1's requestAction(method, path, body) hashed: no version, no query.
		for (const path of ["/account/email", "/account/email?notify=1"]) {
			const formatOne = { method: "POST", path, body_sha256: current.body_sha256 };
			const old = await signedByTwofold({ ...claims, action_hash: await actionHash(formatOne) });
			await refusedWith(old, "outdated_action_format", { action: current });
			expect(await verifier.verify(old, { action: current }).catch((e: Error) => e.message)).toContain("older action format");
		}
		// Format 1 of another request is just another action.
		const otherRequest = await signedByTwofold({ ...claims, action_hash: await actionHash({ method: "POST", path: "/account/delete", body_sha256: current.body_sha256 }) });
		await refusedWith(otherRequest, "wrong_action", { action: current });
	});

	it("says which option disagrees with the assertion: issuer, audience, tenant, each with both values (issue 13)", async () => {
		const localhost = createVerifier({ issuer: "http://localhost:8080", tenant: t.tenantId, jwksUrl });
		const error = await localhost.verify(good).catch((e: AssertionError) => e);
		expect(error).toMatchObject({ reason: "issuer_mismatch" });
		expect((error as Error).message).toBe('the assertion\'s iss is "http://127.0.0.1:8080", the issuer option "http://localhost:8080"');
		const named = await createVerifier({ issuer: ISSUER, tenant: t.tenantId, audience: "https://api.example.com", jwksUrl }).verify(good).catch((e: AssertionError) => e);
		expect(named).toMatchObject({ reason: "audience_mismatch", message: `the assertion's aud is "${t.tenantId}", the audience option "https://api.example.com"` });
		// A wrong tenant id without an audience option fails the audience first, and the message says it came from tenant.
		const wrongTenant = await createVerifier({ issuer: ISSUER, tenant: "ten_typo", jwksUrl }).verify(good).catch((e: AssertionError) => e);
		expect(wrongTenant).toMatchObject({ reason: "audience_mismatch", message: `the assertion's aud is "${t.tenantId}", the tenant option (the audience when none is set) "ten_typo"` });
		const other = await createVerifier({ issuer: ISSUER, tenant: "ten_other", audience: t.tenantId, jwksUrl }).verify(good).catch((e: AssertionError) => e);
		expect(other).toMatchObject({ reason: "wrong_tenant" });
		expect((other as Error).message).toContain(`its tid is "${t.tenantId}", the tenant option "ten_other"`);
	});

	it("fails closed with jwks_unavailable when the JWKS cannot be fetched (issue 13)", async () => {
		const closed = createServer();
		await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
		const port = (closed.address() as AddressInfo).port;
		await new Promise((resolve) => closed.close(resolve));
		const unreachable = createVerifier({ issuer: ISSUER, tenant: t.tenantId, jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json` });
		const error = await unreachable.verify(good).catch((e: AssertionError) => e);
		expect(error).toMatchObject({ reason: "jwks_unavailable" });
		expect((error as Error).message).toContain(`http://127.0.0.1:${port}/.well-known/jwks.json could not be read`);
		// A JWKS URL answering something else than a key set (the app's own 404 page) is no key set either.
		const notJwks = createVerifier({ issuer: ISSUER, tenant: t.tenantId, jwksUrl: `${jwksUrl}/nothing-here` });
		expect(await notJwks.verify(good).catch((e: AssertionError) => e.reason)).toBe("jwks_unavailable");
	});

	it("refuses to be created without a tenant or an issuer, naming the option (issue 13)", () => {
		expect(() => createVerifier({ issuer: ISSUER } as never)).toThrow(/createVerifier: the option "tenant" is required: your tenant id/);
		expect(() => createVerifier({ issuer: ISSUER, tenant: "" })).toThrow(/the option "tenant" is required/);
		expect(() => createVerifier({ tenant: t.tenantId } as never)).toThrow(/createVerifier: the option "issuer" is required: Twofold's base URL/);
		expect(() => createVerifier({ issuer: "127.0.0.1:8080", tenant: t.tenantId })).toThrow(/the option "issuer" is not an http\(s\) URL \("127.0.0.1:8080"\)/);
		expect(() => createVerifier({ issuer: ISSUER, tenant: t.tenantId, clockTolerance: -1 })).toThrow(/"clockTolerance" must be a number of at least 0/);
	});

	it("fetches the JWKS again on an unknown kid, so a rotation needs no restart", async () => {
		// Immediate: the verifier meets the new kid before it ever saw it published, and refetches.
		const rotated = await t.app.services.assertions.rotateSigningKey({ immediate: true });
		nextStep(t.clock);
		const { secret } = await enrollActive(t, "sdk-rotated");
		nextStep(t.clock);
		const fresh = (await t.call("POST", "/v1/users/sdk-rotated/verify", { code: codeFor(secret, t.clock()) })).json.assertion;
		expect(JSON.parse(Buffer.from(fresh.split(".")[0], "base64url").toString()).kid).toBe(rotated.kid);
		// Checked at Twofold's test clock, which nextStep moved ahead of real time.
		await expect(verifier.verify(fresh, { currentDate: t.clock() })).resolves.toMatchObject({ sub: "sdk-rotated" });
		await expect(verifier.verify(good, { currentDate: t.clock() })).resolves.toMatchObject({ sub: "sdk-user" }); // the retired key is still published
	});
});
