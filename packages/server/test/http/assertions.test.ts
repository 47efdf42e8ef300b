import { execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { actionHash } from "@twofold/sdk/action-hash";
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, type JWTHeaderParameters, jwtVerify, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, DIALECTS, enrollActive, IN_CI, nextStep, type TestApp } from "../helpers.js";

/** PyJWT from Debian (python3-jwt): an independent verifier of our assertions (TOOLS.md). Debian's own python, not a pyenv one. */
const PYTHON = "/usr/bin/python3";
const PYJWT = spawnSync(PYTHON, ["-c", "import jwt, cryptography"]).status === 0;
if (!PYJWT && IN_CI) throw new Error("PyJWT is required under CI=true (Debian packages python3-jwt python3-cryptography)");
if (!PYJWT) console.warn("[skip] PyJWT not installed: apt-get install python3-jwt python3-cryptography to run the independent-verifier test");

/** Step-up assertions (issue 4): claims (R-AS-1), JWKS and rotation, redemption (R-AS-5), and assertions as proofs for factor changes (R-LC-1/4, R-RC-5). */
describe.each(DIALECTS)("step-up assertions (%s)", (dialect) => {
	let t: TestApp;
	const jwks = async (): Promise<JSONWebKeySet> => (await t.call("GET", "/.well-known/jwks.json", undefined, null)).json;
	const check = async (token: string, audience = t.tenantId) =>
		jwtVerify(token, createLocalJWKSet(await jwks()), { issuer: "http://127.0.0.1:8080", audience, algorithms: ["EdDSA"], typ: "twofold-assertion+jwt", currentDate: t.clock() });

	/** A TOTP user and a fresh assertion from a verify. */
	async function verified(user: string, extra: Record<string, unknown> = {}) {
		const factor = await enrollActive(t, user);
		nextStep(t.clock);
		const res = await t.call("POST", `/v1/users/${user}/verify`, { code: codeFor(factor.secret, t.clock()), ...extra });
		expect(res.status, res.body).toBe(200);
		return { ...factor, assertion: res.json.assertion as string };
	}

	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	it("a verify returns a signed assertion with every claim of R-AS-1, checked by jose against the JWKS", async () => {
		const { factorId, assertion } = await verified("as-claims");
		const { payload, protectedHeader } = await check(assertion);
		expect(protectedHeader).toMatchObject({ alg: "EdDSA", typ: "twofold-assertion+jwt", kid: expect.stringMatching(/^sig_/) });
		const now = Math.floor(t.clock().getTime() / 1000);
		expect(payload).toEqual({
			iss: "http://127.0.0.1:8080",
			sub: "as-claims",
			aud: t.tenantId,
			tid: t.tenantId,
			iat: now,
			exp: now + 300,
			auth_time: now,
			jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), // 128 random bits (R-AS-4)
			amr: ["otp"],
			acr: "urn:twofold:acr:otp",
			factor_id: factorId,
		});
	});

	it.skipIf(!PYJWT)("PyJWT verifies our assertion against the published JWKS, and refuses a wrong audience", async () => {
		const { assertion } = await verified("as-pyjwt");
		const script = `
import json, sys, jwt
token, jwks, audience = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
kid = jwt.get_unverified_header(token)["kid"]
key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
try:
    # The test clock runs at most a few steps ahead of the wall clock here: a leeway of 2 minutes covers it.
    claims = jwt.decode(token, key.key, algorithms=["EdDSA"], audience=audience, issuer="http://127.0.0.1:8080", leeway=120)
    print(json.dumps({"ok": True, "sub": claims["sub"], "amr": claims["amr"]}))
except jwt.InvalidTokenError as error:
    print(json.dumps({"ok": False, "error": type(error).__name__}))
`;
		const published = JSON.stringify(await jwks());
		const run = (audience: string) => JSON.parse(execFileSync(PYTHON, ["-c", script, assertion, published, audience], { encoding: "utf8" }));
		expect(run(t.tenantId)).toEqual({ ok: true, sub: "as-pyjwt", amr: ["otp"] });
		expect(run("ten_someone_else")).toEqual({ ok: false, error: "InvalidAudienceError" });
	});


	it("amr and acr follow what was verified: mfa when a first factor passed, rcode for a recovery code; confirm answers with one too", async () => {
		const { secret, recoveryCodes } = await enrollActive(t, "as-amr");
		nextStep(t.clock);
		const withPassword = await t.call("POST", "/v1/users/as-amr/verify", { code: codeFor(secret, t.clock()), first_factor: true });
		expect((await check(withPassword.json.assertion)).payload.amr).toEqual(["otp", "mfa"]);
		const recovery = await t.call("POST", "/v1/users/as-amr/verify", { code: recoveryCodes[0] });
		const { payload } = await check(recovery.json.assertion);
		expect(payload).toMatchObject({ amr: ["rcode"], acr: "urn:twofold:acr:rcode" });
		expect(payload.factor_id).toBeUndefined();

		const enrolled = await t.call("POST", "/v1/users/as-confirm/factors", { type: "totp" });
		const confirmed = await t.call("POST", `/v1/users/as-confirm/factors/${enrolled.json.factor.id}/confirm`, { code: codeFor(enrolled.json.totp.secret, t.clock()) });
		expect((await check(confirmed.json.assertion)).payload).toMatchObject({ sub: "as-confirm", amr: ["otp"], factor_id: enrolled.json.factor.id });
	});

	it("an action in the verify becomes action_hash, the SDK's hash of its canonical JSON; a malformed action costs no attempt", async () => {
		const { secret } = await enrollActive(t, "as-action");
		nextStep(t.clock);
		const action = { method: "POST", path: "/account/email", body_sha256: "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg" };
		// Sent as text: 1e400 parses to Infinity, which has no canonical JSON form.
		const bad = await t.http.inject({
			method: "POST",
			url: "/v1/users/as-action/verify",
			headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
			payload: `{"code":"${codeFor(secret, t.clock())}","action":{"amount":1e400}}`,
		});
		expect(bad.statusCode, bad.body).toBe(400);
		const big = await t.call("POST", "/v1/users/as-action/verify", { code: codeFor(secret, t.clock()), action: { blob: "x".repeat(5000) } });
		expect(big.status).toBe(400);
		expect((await t.call("GET", "/v1/users/as-action")).json.locked).toBe(false);
		// Key order does not matter: the hash is over the canonical form.
		const reordered = { path: action.path, body_sha256: action.body_sha256, method: action.method };
		const res = await t.call("POST", "/v1/users/as-action/verify", { code: codeFor(secret, t.clock()), action: reordered });
		expect(res.status, res.body).toBe(200);
		expect((await check(res.json.assertion)).payload.action_hash).toBe(await actionHash(action));
	});

	it("a verify may name the audience, never a tenant id; tid still names the tenant", async () => {
		const { secret } = await enrollActive(t, "as-aud");
		nextStep(t.clock);
		const named = await t.call("POST", "/v1/users/as-aud/verify", { code: codeFor(secret, t.clock()), audience: "https://api.example.com" });
		expect((await check(named.json.assertion, "https://api.example.com")).payload).toMatchObject({ aud: "https://api.example.com", tid: t.tenantId });
		for (const audience of ["ten_00000000000000000000000000", "", "with space"]) {
			expect((await t.call("POST", "/v1/users/as-aud/verify", { code: codeFor(secret, t.clock()), audience })).status, audience).toBe(400);
		}
	});

	it("the tenant sets the lifetime within bounds (R-AS-3)", async () => {
		expect((await t.call("PATCH", "/v1/tenant", { assertions: { ttl_seconds: 60 } })).status).toBe(200);
		const { assertion } = await verified("as-ttl");
		const { payload } = await check(assertion);
		expect(payload.exp! - payload.iat!).toBe(60);
		expect((await t.call("PATCH", "/v1/tenant", { assertions: { ttl_seconds: 300 } })).status).toBe(200);
	});

	it("redeems a jti exactly once, even under 50 concurrent redemptions (R-AS-5), and only for its own tenant (V-17)", async () => {
		const { assertion } = await verified("as-redeem");
		const results = await Promise.all(Array.from({ length: 50 }, () => t.call("POST", "/v1/assertions/redeem", { assertion })));
		expect(results.filter((r) => r.status === 200)).toHaveLength(1);
		expect(results.filter((r) => r.status === 409).every((r) => r.json.error.code === "assertion_redeemed")).toBe(true);
		expect(results.find((r) => r.status === 200)!.json).toMatchObject({ redeemed: true, sub: "as-redeem" });

		const other = await t.app.services.tenants.create(`other-${dialect}`);
		const fresh = await verified("as-redeem-2");
		expect((await t.call("POST", "/v1/assertions/redeem", { assertion: fresh.assertion }, other.apiKey)).json.error.code).toBe("invalid_assertion");
		// Still redeemable by its own tenant: the foreign attempt did not spend it.
		expect((await t.call("POST", "/v1/assertions/redeem", { assertion: fresh.assertion })).status).toBe(200);
	});

	it("redeem refuses a malformed body and needs an API key", async () => {
		for (const body of [{}, { assertion: 1 }, { assertion: "" }, { assertion: "x", extra: true }]) {
			const res = await t.call("POST", "/v1/assertions/redeem", body);
			expect(res.status, JSON.stringify(body)).toBe(400);
			expect(res.json.error.code).toBe("invalid_request");
		}
		expect((await t.call("POST", "/v1/assertions/redeem", { assertion: "x" }, null)).status).toBe(401);
	});

	it("a tampered, foreign-issuer or expired assertion is not redeemed", async () => {
		const { assertion } = await verified("as-tamper");
		const [header, payload, signature] = assertion.split(".");
		const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
		const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString("base64url")}.${signature}`;
		const noneAlg = `${Buffer.from(JSON.stringify({ alg: "none", typ: "twofold-assertion+jwt" })).toString("base64url")}.${payload}.`;
		for (const bad of [forged, noneAlg, "not.a.jws", `${assertion}x`]) {
			expect((await t.call("POST", "/v1/assertions/redeem", { assertion: bad })).json.error.code, bad.slice(-20)).toBe("invalid_assertion");
		}
		t.clock.advance(301_000);
		expect((await t.call("POST", "/v1/assertions/redeem", { assertion })).json.error.code).toBe("invalid_assertion");
	});

	it("refuses, even when Twofold's own key signed it, a typ that is not exactly ours, an unpublished kid, another algorithm, a foreign issuer, an iat beyond the clock skew and a missing or mistyped claim (R-AS-2; issue 14)", async () => {
		const { assertion } = await verified("as-header");
		const [h, p] = assertion.split(".");
		const header = JSON.parse(Buffer.from(h!, "base64url").toString()) as { alg: string; kid: string; typ: string };
		const claims = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
		const key = await t.app.services.deps.signingKeys.active();
		const signed = (payload: Record<string, unknown>, protectedHeader: Record<string, unknown> = header) =>
			new SignJWT(payload).setProtectedHeader(protectedHeader as JWTHeaderParameters).sign(key.privateKey);
		const redeem = async (token: string) => (await t.call("POST", "/v1/assertions/redeem", { assertion: token })).json;
		const now = Math.floor(t.clock().getTime() / 1000);
		// The controls: the same key and claims (a jti of their own) are redeemed, an iat within the 60 s skew too.
		expect(await redeem(await signed({ ...claims, jti: "as-header-control" }))).toMatchObject({ redeemed: true });
		expect(await redeem(await signed({ ...claims, jti: "as-header-skew", iat: now + 59 }))).toMatchObject({ redeemed: true });
		const { tid: _tid, ...withoutTid } = claims;
		const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
		const refused: Record<string, string> = {
			"typ JWT": await signed(claims, { ...header, typ: "JWT" }),
			"no typ": await signed(claims, { alg: header.alg, kid: header.kid }),
			"typ with application/": await signed(claims, { ...header, typ: `application/${header.typ}` }),
			"typ in capitals": await signed(claims, { ...header, typ: header.typ.toUpperCase() }),
			"an unpublished kid": await signed(claims, { ...header, kid: "sig_unpublished" }),
			"ES256 under Twofold's kid": await new SignJWT(claims).setProtectedHeader({ ...header, alg: "ES256" }).sign(p256.privateKey),
			"a foreign issuer": await signed({ ...claims, iss: "https://twofold.evil.example" }),
			"iat beyond the skew": await signed({ ...claims, iat: now + 61 }),
			"no tid": await signed(withoutTid),
			"amr not an array of strings": await signed({ ...claims, amr: [1] }),
			"auth_time a string": await signed({ ...claims, auth_time: String(claims.auth_time) }),
		};
		for (const [name, token] of Object.entries(refused)) expect((await redeem(token)).error?.code, name).toBe("invalid_assertion");
	});

	it("rotation: the new key is published first and signs two minutes later; old assertions verify until they expire", async () => {
		const before = await verified("as-rotate");
		const oldKid = decodeProtectedHeader(before.assertion).kid;
		const rotated = await t.app.services.assertions.rotateSigningKey();
		expect(rotated.retiring).toEqual([oldKid]);
		expect(Date.parse(rotated.activates_at) - t.clock().getTime()).toBe(120_000);
		// Published at once, so verifiers have it before its first assertion …
		expect((await jwks()).keys.map((k) => k.kid)).toEqual([rotated.kid, oldKid]);
		const signed = async () => {
			nextStep(t.clock);
			const token: string = (await t.call("POST", "/v1/users/as-rotate/verify", { code: codeFor(before.secret, t.clock()) })).json.assertion;
			return { token, kid: decodeProtectedHeader(token).kid };
		};
		const kidAt = async () => (await signed()).kid;
		// … while the old key goes on signing until then.
		const lastOld = await signed();
		expect(lastOld.kid).toBe(oldKid);
		t.clock.advance(120_000);
		expect(await kidAt()).toBe(rotated.kid);
		await check(lastOld.token); // signed by the retired key, still live, still verifies
		expect((await jwks()).keys.map((k) => k.kid)).toContain(oldKid);
		t.clock.advance(16 * 60 * 1000 + 1000); // past the longest lifetime (15 min) and the minute of skew
		expect((await jwks()).keys.map((k) => k.kid)).toEqual([rotated.kid]);
		// --immediate (a suspected compromise): signs at once.
		const urgent = await t.app.services.assertions.rotateSigningKey({ immediate: true });
		expect(await kidAt()).toBe(urgent.kid);
	});

	it("factor changes take a fresh assertion as the proof, once (R-LC-1, R-LC-4, R-RC-5)", async () => {
		const first = await verified("as-change");
		// Add a second factor with it.
		const added = await t.call("POST", "/v1/users/as-change/factors", { type: "totp", assertion: first.assertion });
		expect(added.status, added.body).toBe(201);
		// The same assertion again: spent.
		const again = await t.call("POST", "/v1/users/as-change/recovery-codes", { assertion: first.assertion });
		expect(again.json.error.code).toBe("invalid_assertion");
		const replays = await t.call("GET", "/v1/events?user_id=as-change&type=verification.replay_rejected");
		expect(replays.json.events[0].data).toEqual({ purpose: "regenerate_recovery_codes", method: "assertion" });
		// Regenerate recovery codes with a fresh one.
		nextStep(t.clock);
		const second = await t.call("POST", "/v1/users/as-change/verify", { code: codeFor(first.secret, t.clock()) });
		expect((await t.call("POST", "/v1/users/as-change/recovery-codes", { assertion: second.json.assertion })).status).toBe(201);
		// Remove the pending factor's sibling (the first factor) with another.
		nextStep(t.clock);
		const third = await t.call("POST", "/v1/users/as-change/verify", { code: codeFor(first.secret, t.clock()) });
		expect((await t.call("DELETE", `/v1/users/as-change/factors/${first.factorId}`, { assertion: third.json.assertion })).status).toBe(204);
	});

	it("an assertion spent on a factor change stays spent until it expires: the sweep of expired redemptions keeps it (R-LC-1, R-AS-5)", async () => {
		const user = await verified("as-spent");
		expect((await t.call("POST", "/v1/users/as-spent/recovery-codes", { assertion: user.assertion })).status).toBe(201);
		// A redemption sweeps the records of expired assertions first.
		const other = await verified("as-spent-sweep");
		expect((await t.call("POST", "/v1/assertions/redeem", { assertion: other.assertion })).status).toBe(200);
		expect((await t.call("POST", "/v1/users/as-spent/recovery-codes", { assertion: user.assertion })).json.error.code).toBe("invalid_assertion");
	});

	it("another user's assertion without a factor_id (a recovery code's) cannot remove this user's only factor (R-LC-4)", async () => {
		const victim = await verified("as-only");
		const mallory = await enrollActive(t, "as-thief");
		const fromCode = await t.call("POST", "/v1/users/as-thief/verify", { code: mallory.recoveryCodes[0] });
		expect(fromCode.status, fromCode.body).toBe(200);
		const removed = await t.call("DELETE", `/v1/users/as-only/factors/${victim.factorId}`, { assertion: fromCode.json.assertion });
		expect(removed.json?.error?.code).toBe("invalid_assertion");
		expect((await t.call("GET", "/v1/users/as-only/factors")).json.factors.map((factor: { status: string }) => factor.status)).toEqual(["active"]);
	});

	it("a step-up assertion exactly five minutes old still authorizes a factor change; one second older does not (R-LC-1)", async () => {
		const before = (await t.call("GET", "/v1/tenant")).json.settings.assertions.ttl_seconds;
		// A lifetime past the five minutes, so only the freshness rule decides.
		expect((await t.call("PATCH", "/v1/tenant", { assertions: { ttl_seconds: 900 } })).status).toBe(200);
		try {
			const user = await verified("as-fresh");
			// Issued at the start of a step: auth_time is a whole second, so the clock can land on the limit exactly.
			nextStep(t.clock);
			const older = (await t.call("POST", "/v1/users/as-fresh/verify", { code: codeFor(user.secret, t.clock()) })).json.assertion as string;
			t.clock.advance(300_000);
			const exact = await t.call("POST", "/v1/users/as-fresh/recovery-codes", { assertion: older });
			expect(exact.status, exact.body).toBe(201);
			// Another assertion, one second past the limit: refused.
			nextStep(t.clock);
			const late = (await t.call("POST", "/v1/users/as-fresh/verify", { code: codeFor(user.secret, t.clock()) })).json.assertion as string;
			t.clock.advance(301_000);
			expect((await t.call("POST", "/v1/users/as-fresh/recovery-codes", { assertion: late })).json.error.code).toBe("invalid_assertion");
		} finally {
			await t.call("PATCH", "/v1/tenant", { assertions: { ttl_seconds: before } });
		}
	});

	it("a stale, foreign, other user's, action-bound, tampered or orphaned assertion is refused for a factor change", async () => {
		const victim = await verified("as-victim");
		const refused = async (assertion: string, user = "as-victim", key?: string) => {
			const res = await t.call("POST", `/v1/users/${user}/recovery-codes`, { assertion }, key);
			return res.json.error?.code;
		};
		// Stale: older than 5 minutes, though not expired (lifetime 15 min here).
		expect((await t.call("PATCH", "/v1/tenant", { assertions: { ttl_seconds: 900 } })).status).toBe(200);
		nextStep(t.clock);
		const longLived = (await t.call("POST", "/v1/users/as-victim/verify", { code: codeFor(victim.secret, t.clock()) })).json.assertion;
		t.clock.advance(301_000);
		expect(await refused(longLived)).toBe("invalid_assertion");
		expect((await t.call("PATCH", "/v1/tenant", { assertions: { ttl_seconds: 300 } })).status).toBe(200);
		// Another user's assertion, and another tenant's.
		const mallory = await verified("as-mallory");
		expect(await refused(mallory.assertion)).toBe("invalid_assertion");
		const other = await t.app.services.tenants.create(`foreign-${dialect}`);
		const foreignUser = await enrollActive({ ...t, call: (m, u, b, k) => t.call(m, u, b, k ?? other.apiKey) }, "as-victim");
		nextStep(t.clock);
		const foreign = await t.call("POST", "/v1/users/as-victim/verify", { code: codeFor(foreignUser.secret, t.clock()) }, other.apiKey);
		expect(await refused(foreign.json.assertion)).toBe("invalid_assertion");
		// Bound to an action: it approves that operation, not this one.
		nextStep(t.clock);
		const bound = await t.call("POST", "/v1/users/as-victim/verify", { code: codeFor(victim.secret, t.clock()), action: { path: "/transfer" } });
		expect(await refused(bound.json.assertion)).toBe("invalid_assertion");
		// Tampered: a claim changed under the signature.
		nextStep(t.clock);
		const good = (await t.call("POST", "/v1/users/as-victim/verify", { code: codeFor(victim.secret, t.clock()) })).json.assertion as string;
		const [h, p, s] = good.split(".");
		const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
		expect(await refused(`${h}.${Buffer.from(JSON.stringify({ ...claims, auth_time: claims.auth_time + 1 })).toString("base64url")}.${s}`)).toBe("invalid_assertion");
		// Not accepted where a code or WebAuthn proof is required.
		expect((await t.call("POST", "/v1/users/as-victim/verify", { assertion: good })).status).toBe(400);
		// From a factor removed since (R-LC-3): the user has a second factor; an admin removes the first; its assertion stops working.
		nextStep(t.clock);
		const second = await t.call("POST", "/v1/users/as-victim/factors", { type: "totp", code: codeFor(victim.secret, t.clock()) });
		expect(second.status, second.body).toBe(201);
		const confirmed = await t.call("POST", `/v1/users/as-victim/factors/${second.json.factor.id}/confirm`, { code: codeFor(second.json.totp.secret, t.clock()) });
		expect(confirmed.status).toBe(200);
		expect((await t.call("DELETE", `/v1/users/as-victim/factors/${victim.factorId}`, { reason: "test: phone lost" })).status).toBe(204);
		expect(await refused(good)).toBe("invalid_assertion");
		// Each refusal above was a counted attempt.
		expect((await t.call("GET", "/v1/events?user_id=as-victim&type=verification.failed")).json.events.length).toBeGreaterThanOrEqual(4);
	});
});
