import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLocalJWKSet, exportJWK, type JSONWebKeySet, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkCallback, verifyIdToken } from "../src/prompt-checks.js";
import { ACR, ACR_NONE, actionHash, createPromptClient, pkceChallenge, PromptError, type PromptFailure, type PromptSession, randomToken, requestAction, TwofoldError } from "../src/index.js";

/**
 * The prompt helper's own checks (issue 15), apart from the server, which is not built yet: PKCE against RFC 7636's
 * vector, the callback's parameters (RFC 9207 iss, state, OAuth errors), and the id_token as an attacker could bend
 * it (OIDC Core §3.1.3.7; V-10: unsigned or tampered results are never trusted), signed here with jose. The whole
 * flow against a real Twofold, and with openid-client, runs in the server's tests.
 */

const ISSUER = "https://2fa.example.com/t/ten_a";
const CLIENT = "cli_app";

async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<PromptError> {
	const error = await (typeof promise === "function" ? Promise.resolve().then(promise) : promise).then(
		() => null,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(PromptError);
	expect(error).toBeInstanceOf(TwofoldError); // the SDK's one error type: `instanceof TwofoldError` catches it too
	return error as PromptError;
}
const refusedWith = async (promise: Promise<unknown> | (() => unknown), reason: PromptFailure, code: string = reason) => {
	const error = await refusal(promise);
	expect({ reason: error.reason, code: error.code }).toEqual({ reason, code });
	return error;
};

describe("PKCE and the request's random values (RFC 7636)", () => {
	it("computes S256 as RFC 7636 Appendix B does", async () => {
		expect(await pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	});

	it("refuses a verifier outside §4.1 (too short, too long, a character outside the unreserved set)", async () => {
		await expect(pkceChallenge("a".repeat(42))).rejects.toThrow(TypeError);
		await expect(pkceChallenge("a".repeat(129))).rejects.toThrow(TypeError);
		await expect(pkceChallenge(`${"a".repeat(42)}+`)).rejects.toThrow(TypeError);
		expect(await pkceChallenge("a".repeat(128))).toMatch(/^[A-Za-z0-9_-]{43}$/);
	});

	it("makes state, nonce and verifier of 256 random bits, each a valid verifier, never twice the same", async () => {
		const tokens = Array.from({ length: 200 }, randomToken);
		expect(new Set(tokens).size).toBe(200);
		for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
		await expect(pkceChallenge(tokens[0]!)).resolves.toMatch(/^[A-Za-z0-9_-]{43}$/);
	});
});

describe("the callback's parameters (RFC 9207, RFC 6749 §10.12)", () => {
	const session = { state: "s-123" };
	const provider = { issuer: ISSUER, issParameterSupported: true };
	const callback = (params: Record<string, string>) => `https://app.example.com/2fa/callback?${new URLSearchParams(params)}`;

	it("returns the code of a callback with the issuer and the session's state, from a URL, a path or its parameters", () => {
		const params = { code: "c-1", state: "s-123", iss: ISSUER };
		expect(checkCallback(callback(params), session, provider)).toBe("c-1");
		expect(checkCallback(new URL(callback(params)), session, provider)).toBe("c-1");
		expect(checkCallback(`/2fa/callback?${new URLSearchParams(params)}`, session, provider)).toBe("c-1");
		expect(checkCallback(new URLSearchParams(params), session, provider)).toBe("c-1");
	});

	it("refuses an answer from another issuer (mix-up), and one without iss when the issuer announces it", async () => {
		await refusedWith(() => checkCallback(callback({ code: "c-1", state: "s-123", iss: "https://2fa.example.com/t/ten_b" }), session, provider), "issuer_mismatch");
		await refusedWith(() => checkCallback(callback({ code: "c-1", state: "s-123", iss: `${ISSUER}/` }), session, provider), "issuer_mismatch");
		await refusedWith(() => checkCallback(callback({ code: "c-1", state: "s-123" }), session, provider), "issuer_mismatch");
		// An issuer that does not announce iss (RFC 9207 §3) is not required to send it; one that does send it must be right.
		expect(checkCallback(callback({ code: "c-1", state: "s-123" }), session, { issuer: ISSUER, issParameterSupported: false })).toBe("c-1");
		await refusedWith(() => checkCallback(callback({ code: "c-1", state: "s-123", iss: "https://evil.example" }), session, { issuer: ISSUER, issParameterSupported: false }), "issuer_mismatch");
	});

	it("refuses another session's state, or none, before reading the code or the error", async () => {
		await refusedWith(() => checkCallback(callback({ code: "c-1", state: "s-other", iss: ISSUER }), session, provider), "state_mismatch");
		await refusedWith(() => checkCallback(callback({ code: "c-1", iss: ISSUER }), session, provider), "state_mismatch");
		// A lost session is not a match for a callback without state.
		await refusedWith(() => checkCallback(callback({ code: "c-1", iss: ISSUER }), undefined as never, provider), "state_mismatch");
		await refusedWith(() => checkCallback(callback({ code: "c-1", iss: ISSUER, state: "" }), { state: "" }, provider), "state_mismatch");
		// An error forged into someone's browser with a wrong state is not believed either.
		await refusedWith(() => checkCallback(callback({ error: "access_denied", state: "s-other", iss: ISSUER }), session, provider), "state_mismatch");
	});

	it("answers the OAuth error of the redirect as a typed error: access_denied when the user cancelled", async () => {
		const error = await refusedWith(
			() => checkCallback(callback({ error: "access_denied", error_description: "the user cancelled", state: "s-123", iss: ISSUER }), session, provider),
			"authorization_error",
			"access_denied",
		);
		expect(error.status).toBe(0);
		expect(error.message).toContain("the user cancelled");
		await refusedWith(() => checkCallback(callback({ error: "login_required", state: "s-123", iss: ISSUER }), session, provider), "authorization_error", "login_required");
	});

	it("refuses a callback without a code, and a parameter sent twice", async () => {
		await refusedWith(() => checkCallback(callback({ state: "s-123", iss: ISSUER }), session, provider), "invalid_response");
		await refusedWith(() => checkCallback(`${callback({ code: "c-1", state: "s-123", iss: ISSUER })}&code=c-2`, session, provider), "invalid_response");
		await refusedWith(() => checkCallback(`${callback({ code: "c-1", state: "s-other", iss: ISSUER })}&state=s-123`, session, provider), "invalid_response");
	});
});

describe("the id_token (OIDC Core §3.1.3.7, V-10)", () => {
	const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
	const ed = generateKeyPairSync("ed25519");
	const stranger = generateKeyPairSync("ed25519");
	let keys: ReturnType<typeof createLocalJWKSet>;
	let session: PromptSession;
	let boundHash: string;

	beforeAll(async () => {
		const jwks: JSONWebKeySet = {
			keys: [
				{ ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
				{ ...(await exportJWK(ed.publicKey)), kid: "ed-1", alg: "EdDSA", use: "sig" },
			],
		};
		keys = createLocalJWKSet(jwks);
		boundHash = await actionHash(await requestAction("POST", "/account/email", { email: "ada2@example.com" }));
		session = { state: "s", nonce: "n-123", codeVerifier: randomToken(), userId: "u-1842", actionHash: null, acceptedAcr: [ACR.phishingResistant, ACR.otp, ACR.recoveryCode] };
	});

	const now = () => Math.floor(Date.now() / 1000);
	const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
		iss: ISSUER,
		aud: CLIENT,
		sub: "u-1842",
		nonce: "n-123",
		iat: now(),
		exp: now() + 60,
		auth_time: now() - 2,
		acr: ACR.otp,
		amr: ["otp"],
		tid: "ten_a",
		...extra,
	});
	const sign = (payload: Record<string, unknown>, alg: "RS256" | "EdDSA" = "RS256", key: KeyObject = alg === "RS256" ? rsa.privateKey : ed.privateKey, kid = alg === "RS256" ? "rsa-1" : "ed-1") =>
		new SignJWT(payload).setProtectedHeader({ alg, kid, typ: "JWT" }).sign(key);
	const verify = (token: string, overrides: Partial<PromptSession> = {}) => verifyIdToken(token, keys, { issuer: ISSUER, clientId: CLIENT, session: { ...session, ...overrides } });

	it("accepts an id_token signed RS256 or EdDSA with the issuer's keys, and gives its claims", async () => {
		expect(await verify(await sign(claims()))).toMatchObject({ sub: "u-1842", acr: ACR.otp, amr: ["otp"], tid: "ten_a" });
		expect(await verify(await sign(claims(), "EdDSA"))).toMatchObject({ sub: "u-1842" });
		expect(await verify(await sign(claims({ action_hash: boundHash })), { actionHash: boundHash })).toMatchObject({ action_hash: boundHash });
	});

	it("refuses alg none, an HMAC keyed with the public key, and a key that is not the issuer's", async () => {
		await refusedWith(verify(new UnsecuredJWT(claims()).encode()), "invalid_id_token");
		const publicPem = rsa.publicKey.export({ type: "spki", format: "pem" });
		const confused = await new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: "rsa-1" }).sign(new TextEncoder().encode(String(publicPem)));
		await refusedWith(verify(confused), "invalid_id_token");
		await refusedWith(verify(await sign(claims(), "EdDSA", stranger.privateKey)), "invalid_id_token");
		await refusedWith(verify(await sign(claims(), "EdDSA", stranger.privateKey, "stranger")), "invalid_id_token");
		// A signature over other claims: the payload swapped under a valid signature.
		const [header, , signature] = (await sign(claims())).split(".");
		const swapped = `${header}.${Buffer.from(JSON.stringify(claims({ sub: "u-admin" }))).toString("base64url")}.${signature}`;
		await refusedWith(verify(swapped), "invalid_id_token");
	});

	it("refuses another issuer, another client's audience, several audiences without this client as azp, and an expired token", async () => {
		await refusedWith(verify(await sign(claims({ iss: "https://2fa.example.com/t/ten_b" }))), "invalid_id_token");
		await refusedWith(verify(await sign(claims({ aud: "cli_other" }))), "invalid_id_token");
		await refusedWith(verify(await sign(claims({ aud: [CLIENT, "cli_other"] }))), "invalid_id_token");
		expect(await verify(await sign(claims({ aud: [CLIENT, "cli_other"], azp: CLIENT })))).toMatchObject({ azp: CLIENT });
		await refusedWith(verify(await sign(claims({ exp: now() - 60 }))), "invalid_id_token");
	});

	it("refuses a token missing a claim Twofold sets, or holding it with another type", async () => {
		for (const name of ["sub", "exp", "iat", "nonce", "auth_time", "acr", "tid"]) {
			const { [name]: _dropped, ...rest } = claims();
			await refusedWith(verify(await sign(rest)), "invalid_id_token");
		}
		await refusedWith(verify(await sign(claims({ auth_time: "yesterday" }))), "invalid_id_token");
		await refusedWith(verify(await sign(claims({ amr: "otp" }))), "invalid_id_token");
		await refusedWith(verify(await sign(claims({ action_hash: 42 }))), "invalid_id_token");
	});

	it("refuses another session's nonce (a replayed token) and another user", async () => {
		await refusedWith(verify(await sign(claims({ nonce: "n-other" }))), "nonce_mismatch");
		await refusedWith(verify(await sign(claims({ sub: "u-other" }))), "wrong_user");
	});

	it("refuses a token bound to another action, an unbound one when an action was passed, and a bound one when none was", async () => {
		const otherHash = await actionHash(await requestAction("POST", "/account/email", { email: "mallory@example.com" }));
		await refusedWith(verify(await sign(claims({ action_hash: otherHash })), { actionHash: boundHash }), "action_mismatch");
		await refusedWith(verify(await sign(claims()), { actionHash: boundHash }), "action_mismatch");
		await refusedWith(verify(await sign(claims({ action_hash: boundHash }))), "action_mismatch");
	});

	it("refuses a level not accepted: email by default, no factor unless allowed, otp when only phishing-resistant is", async () => {
		await refusedWith(verify(await sign(claims({ acr: ACR.email, amr: ["email"] }))), "insufficient_acr");
		await refusedWith(verify(await sign(claims({ acr: ACR_NONE, amr: [] }))), "insufficient_acr");
		expect(await verify(await sign(claims({ acr: ACR_NONE, amr: undefined })), { acceptedAcr: [...session.acceptedAcr, ACR_NONE] })).toMatchObject({ acr: ACR_NONE, amr: [] });
		expect(await verify(await sign(claims({ acr: ACR.phishingResistant, amr: ["hwk", "user"] })), { acceptedAcr: [ACR.phishingResistant] })).toMatchObject({ acr: ACR.phishingResistant });
		await refusedWith(verify(await sign(claims()), { acceptedAcr: [ACR.phishingResistant] }), "insufficient_acr");
	});
});

describe("createPromptClient", () => {
	// A server posing as the issuer (or reached through a wrong URL): it records every request it gets.
	let impostor: Server;
	let impostorUrl: string;
	const requests: string[] = [];
	beforeAll(async () => {
		impostor = createServer((req, res) => {
			requests.push(`${req.method} ${req.url}`);
			res.setHeader("content-type", "application/json");
			const base = `http://${req.headers.host}`;
			res.end(JSON.stringify({ issuer: "https://2fa.attacker.example/t/ten_a", authorization_endpoint: `${base}/authorize`, pushed_authorization_request_endpoint: `${base}/par`, token_endpoint: `${base}/token`, jwks_uri: `${base}/jwks` }));
		});
		await new Promise<void>((resolve) => impostor.listen(0, "127.0.0.1", resolve));
		impostorUrl = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}/t/ten_a`;
	});
	afterAll(() => new Promise<void>((resolve) => impostor.close(() => resolve())));

	const options = { issuer: "http://127.0.0.1:9/t/ten_a", clientId: CLIENT, clientSecret: "s3cret", redirectUri: "https://app.example.com/2fa/callback" };

	it("names a missing option when it is created", () => {
		for (const name of ["issuer", "clientId", "clientSecret", "redirectUri"] as const) {
			expect(() => createPromptClient({ ...options, [name]: undefined as never })).toThrow(new RegExp(`"${name}" is required`));
		}
	});

	it("refuses a malformed start before any request: a user id Twofold would refuse, an unknown intent, an action without its description", async () => {
		// The issuer's port is closed: a request would fail with discovery_failed, not with these TypeErrors.
		const client = createPromptClient(options);
		await expect(client.start({ userId: "" })).rejects.toThrow(TypeError);
		await expect(client.start({ userId: "x".repeat(129) })).rejects.toThrow(TypeError);
		await expect(client.start({ userId: "u\n1" })).rejects.toThrow(TypeError);
		await expect(client.start({ userId: "u-1", intent: "delete" as never })).rejects.toThrow(TypeError);
		await expect(client.start({ userId: "u-1", action: { op: "email" } })).rejects.toThrow(/description/);
		await expect(client.start({ userId: "u-1", description: "Change your email" })).rejects.toThrow(/description/);
		await expect(client.start({ userId: "u-1", action: { op: "email" }, description: "x".repeat(201) })).rejects.toThrow(/description/);
		await refusedWith(client.start({ userId: "u-1" }), "discovery_failed");
	});

	it("refuses an issuer whose discovery document names another issuer, and pushes nothing to it", async () => {
		const client = createPromptClient({ ...options, issuer: impostorUrl });
		const error = await refusedWith(client.start({ userId: "u-1842" }), "issuer_mismatch");
		expect(error.message).toContain("https://2fa.attacker.example/t/ten_a");
		await refusedWith(client.callback(`/cb?code=c&state=s&iss=${encodeURIComponent(impostorUrl)}`, { state: "s", nonce: "n", codeVerifier: randomToken(), userId: "u-1842", actionHash: null, acceptedAcr: [] }), "issuer_mismatch");
		expect(requests).toEqual(["GET /t/ten_a/.well-known/openid-configuration", "GET /t/ten_a/.well-known/openid-configuration"]);
	});
});
