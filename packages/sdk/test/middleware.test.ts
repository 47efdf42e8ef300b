import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { SignJWT } from "jose";
import { generateKeyPairSync } from "node:crypto";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, enrollActive, nextStep, type TestApp } from "../../server/test/helpers.js";
import { SMTPSink } from "../../server/test/smtp-sink.js";
import * as forExpress from "../src/express.js";
import * as forFastify from "../src/fastify.js";
import { ACR, DEFAULT_ACR_VALUES, REJECTION_REASONS, type RejectionReason, requestAction, type StepUpOptions, TwofoldClient } from "../src/index.js";

const ISSUER = "http://127.0.0.1:8080";
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A loopback port nothing listens on: Twofold (or its JWKS) unreachable. */
async function closedPort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	await new Promise((resolve) => server.close(resolve));
	return port;
}

/**
 * The middleware in both modes, in real Express and Fastify apps on loopback,
 * against a real Twofold: RFC 9470 challenges, action binding, single use, and
 * header mode with a replayed code.
 */
describe.each(["express", "fastify"] as const)("middleware (%s)", (framework) => {
	let t: TestApp;
	let client: TwofoldClient;
	let appUrl: string;
	let close: () => Promise<void>;
	let secret: string;
	let smtp: SMTPSink;
	const user = `mw-${framework}`;
	/** What onRejected and the logger were told, per route. */
	let rejections: { path: string; reason: RejectionReason; status: number; message: string }[] = [];
	let warnings: string[] = [];
	let verifier: { issuer: string; tenant: string; jwksUrl: string; now: () => Date };
	let twofoldUrl: string;

	/** A fresh code at the next step, and the assertion a verify with it returns. */
	async function stepUp(action?: Awaited<ReturnType<typeof requestAction>>): Promise<string> {
		nextStep(t.clock);
		return (await client.verify(user, { code: codeFor(secret, t.clock()), ...(action === undefined ? {} : { action }) })).assertion;
	}
	const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
		fetch(`${appUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", "x-user": user, ...headers }, body: JSON.stringify(body) });

	beforeAll(async () => {
		smtp = new SMTPSink();
		await smtp.start();
		t = await buildTestApp({ env: { TWOFOLD_SMTP_URL: smtp.url, TWOFOLD_SMTP_FROM: "twofold@example.com" } });
		expect((await t.call("PATCH", "/v1/tenant", { email: { enabled: true } })).status).toBe(200);
		twofoldUrl = await t.http.listen({ host: "127.0.0.1", port: 0 });
		client = new TwofoldClient({ baseUrl: twofoldUrl, apiKey: t.adminKey });
		({ secret } = await enrollActive(t, user));
		// The routes' clock is Twofold's test clock, which nextStep moves ahead of real time (iat in the future is refused).
		verifier = { issuer: ISSUER, tenant: t.tenantId, jwksUrl: `${twofoldUrl}/.well-known/jwks.json`, now: t.clock };
		const other = await t.app.services.tenants.create("other");
		const later = (ms: number) => () => new Date(t.clock().getTime() + ms);
		// One route per way of being misconfigured or refused, each reporting to the same hook and logger.
		const probes: Record<string, Partial<StepUpOptions<never>>> = {
			plain: {},
			"localhost-issuer": { issuer: "http://localhost:8080" },
			audience: { audience: "https://api.example.com" },
			tenant: { tenant: "ten_other", audience: t.tenantId },
			"an-hour-later": { now: later(3_600_000) },
			"ten-minutes-earlier": { now: later(-600_000) },
			"two-minutes-later": { now: later(120_000), maxAge: 60 },
			phr: { acrValues: [ACR.phishingResistant] },
			"single-use": { redeemWith: client },
			"other-tenant-key": { redeemWith: new TwofoldClient({ baseUrl: twofoldUrl, apiKey: other.apiKey }) },
			"no-jwks": { jwksUrl: `http://127.0.0.1:${await closedPort()}/.well-known/jwks.json` },
			"wrong-key": { redeemWith: new TwofoldClient({ baseUrl: twofoldUrl, apiKey: "tfk_not_a_key" }) },
			"no-twofold": { redeemWith: new TwofoldClient({ baseUrl: `http://127.0.0.1:${await closedPort()}`, apiKey: t.adminKey }) },
			"bound-reusable": { action: (req: never) => requestAction(req), singleUse: false },
		};
		const reporting = (path: string) => ({
			onRejected: (reason: RejectionReason, _req: unknown, detail: { status: number; message: string }) => void rejections.push({ path, reason, status: detail.status, message: detail.message }),
			logger: { warn: (message: string) => void warnings.push(message) },
		});

		if (framework === "express") {
			const { requireCode, requireStepUp } = forExpress;
			const app = express();
			app.use(express.json());
			// x-user stands in for the application's own session.
			const userId = (req: express.Request) => req.get("x-user");
			const action = (req: express.Request) => requestAction(req);
			app.post("/account/email", requireStepUp({ ...verifier, userId, action, redeemWith: client, ...reporting("/account/email") }), (_req, res) => void res.json({ changed: true, amr: res.locals.twofold.amr }));
			for (const [name, probe] of Object.entries(probes)) {
				app.post(`/probe/${name}`, requireStepUp({ ...verifier, userId, ...reporting(`/probe/${name}`), ...(probe as object) }), (_req, res) => void res.json({ ok: true }));
			}
			app.post("/account/delete", requireStepUp({ ...verifier, userId, acrValues: ["urn:twofold:acr:phr"] }), (_req, res) => void res.json({ deleted: true }));
			app.post("/export", requireStepUp({ ...verifier, userId, redeemWith: client }), (_req, res) => void res.json({ exported: true }));
			app.post("/profile", requireStepUp({ ...verifier, userId }), (_req, res) => void res.json({ shown: true }));
			app.post("/newsletter", requireStepUp({ ...verifier, userId, acrValues: [...DEFAULT_ACR_VALUES, ACR.email] }), (_req, res) => void res.json({ ok: true }));
			app.post("/transfer", requireCode({ client, userId }), (_req, res) => void res.json({ sent: true }));
			const server = app.listen(0, "127.0.0.1");
			await new Promise((resolve) => server.once("listening", resolve));
			appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
			close = () => new Promise((resolve) => server.close(() => resolve()));
		} else {
			const { requireCode, requireStepUp, stepUpClaims } = forFastify;
			const app = Fastify();
			const userId = (req: { headers: Record<string, unknown> }) => req.headers["x-user"] as string | undefined;
			const action = (req: { method: string; url: string; body: unknown }) => requestAction(req);
			app.post("/account/email", { preHandler: requireStepUp({ ...verifier, userId, action, redeemWith: client, ...reporting("/account/email") }) }, async (req) => ({ changed: true, amr: stepUpClaims(req)!.amr }));
			for (const [name, probe] of Object.entries(probes)) {
				app.post(`/probe/${name}`, { preHandler: requireStepUp({ ...verifier, userId, ...reporting(`/probe/${name}`), ...(probe as object) }) }, async () => ({ ok: true }));
			}
			app.post("/account/delete", { preHandler: requireStepUp({ ...verifier, userId, acrValues: ["urn:twofold:acr:phr"] }) }, async () => ({ deleted: true }));
			app.post("/export", { preHandler: requireStepUp({ ...verifier, userId, redeemWith: client }) }, async () => ({ exported: true }));
			app.post("/profile", { preHandler: requireStepUp({ ...verifier, userId }) }, async () => ({ shown: true }));
			app.post("/newsletter", { preHandler: requireStepUp({ ...verifier, userId, acrValues: [...DEFAULT_ACR_VALUES, ACR.email] }) }, async () => ({ ok: true }));
			app.post("/transfer", { preHandler: requireCode({ client, userId }) }, async () => ({ sent: true }));
			appUrl = await app.listen({ host: "127.0.0.1", port: 0 });
			close = () => app.close();
		}
	});
	afterAll(async () => {
		await close();
		await t.close();
		await smtp.stop();
	});

	it("standard mode: no assertion is a 401 with the RFC 9470 challenge", async () => {
		const res = await post("/account/email", { email: "new@example.com" });
		expect(res.status).toBe(401);
		expect(res.headers.get("www-authenticate")).toBe(
			'Bearer error="insufficient_user_authentication", error_description="A fresh second-factor assertion is required", max_age=300',
		);
		const strict = await post("/account/delete", {});
		expect(strict.headers.get("www-authenticate")).toContain('acr_values="urn:twofold:acr:phr"');
	});

	it("standard mode: an assertion bound to this request passes; one for another body or user does not", async () => {
		const body = { email: "new@example.com" };
		const assertion = await stepUp(await requestAction("POST", "/account/email", body));
		const ok = await post("/account/email", body, { "twofold-assertion": assertion });
		expect(ok.status).toBe(200);
		expect(await ok.json()).toEqual({ changed: true, amr: ["otp"] });
		// The same proof cannot approve a different change to the same route.
		const other = await post("/account/email", { email: "attacker@example.com" }, { "twofold-assertion": assertion });
		expect(other.status).toBe(401);
		expect(other.headers.get("www-authenticate")).toContain("approves another action");
		const asSomeoneElse = await post("/account/email", body, { "twofold-assertion": assertion, "x-user": "someone-else" });
		expect(asSomeoneElse.status).toBe(401);
	});

	it("standard mode: an assertion for DELETE-like ?id=1 does not approve ?id=2 on the same route (issue 12)", async () => {
		const body = { email: "new@example.com" };
		const assertion = await stepUp(await requestAction("POST", "/account/email?id=1", body));
		const other = await post("/account/email?id=2", body, { "twofold-assertion": assertion });
		expect(other.status).toBe(401);
		expect(other.headers.get("www-authenticate")).toContain("approves another action");
		const none = await post("/account/email", body, { "twofold-assertion": assertion });
		expect(none.status).toBe(401);
		const ok = await post("/account/email?id=1", body, { "twofold-assertion": assertion });
		expect(ok.status).toBe(200);
	});

	it("standard mode: an assertion bound by an older SDK's action format is refused with a reason that says so (issue 12)", async () => {
		const body = { email: "new@example.com" };
		const current = await requestAction("POST", "/account/email", body);
		const assertion = await stepUp({ method: "POST", path: "/account/email", body_sha256: current.body_sha256 } as never);
		const res = await post("/account/email", body, { "twofold-assertion": assertion });
		expect(res.status).toBe(401);
		expect(res.headers.get("www-authenticate")).toContain("requested by an older SDK");
	});

	it("standard mode: an acr below the route's level is refused (TOTP is not phishing-resistant)", async () => {
		const res = await post("/account/delete", {}, { "twofold-assertion": await stepUp() });
		expect(res.status).toBe(401);
		expect(res.headers.get("www-authenticate")).toContain("A stronger second factor is required");
	});

	it("standard mode: an email-code assertion is refused by default (insufficient_acr, R-EM-1); only a route that names the email acr takes it", async () => {
		const sent = await t.call("POST", `/v1/users/${user}/challenges`, { type: "email", to: `${user}@example.com` });
		expect(sent.status, sent.body).toBe(201);
		const verified = await t.call("POST", `/v1/users/${user}/verify`, { challenge_id: sent.json.challenge.id, code: smtp.codeFor(`${user}@example.com`) });
		expect(verified.status, verified.body).toBe(200);
		const email = verified.json.assertion as string;
		const refused = await post("/profile", {}, { "twofold-assertion": email });
		expect(refused.status).toBe(401);
		expect(refused.headers.get("www-authenticate")).toContain("A stronger second factor is required");
		expect((await post("/newsletter", {}, { "twofold-assertion": email })).status).toBe(200);
		// Every second factor still passes the default.
		expect((await post("/profile", {}, { "twofold-assertion": await stepUp() })).status).toBe(200);
	});

	it("standard mode with single use: the second request with the same assertion is refused (R-AS-5)", async () => {
		const assertion = await stepUp();
		expect((await post("/export", {}, { "twofold-assertion": assertion })).status).toBe(200);
		expect((await post("/export", {}, { "twofold-assertion": assertion })).status).toBe(401);
	});

	it("an action-bound assertion approves its request once by default: the same request again is 401 redeemed (R-AS-5, issue 13)", async () => {
		rejections = [];
		const body = { email: "once@example.com" };
		const assertion = await stepUp(await requestAction("POST", "/account/email", body));
		expect((await post("/account/email", body, { "twofold-assertion": assertion })).status).toBe(200);
		const replayed = await post("/account/email", body, { "twofold-assertion": assertion });
		expect(replayed.status).toBe(401);
		expect(replayed.headers.get("www-authenticate")).toContain('error="insufficient_user_authentication", error_description="The second-factor assertion was used already"');
		expect(rejections).toEqual([{ path: "/account/email", reason: "redeemed", status: 401, message: expect.stringContaining("assertion_redeemed") }]);
	});

	it("singleUse: false accepts the same action-bound assertion again within its lifetime (the documented replay risk)", async () => {
		const body = { email: "twice@example.com" };
		const assertion = await stepUp(await requestAction("POST", "/probe/bound-reusable", body));
		expect((await post("/probe/bound-reusable", body, { "twofold-assertion": assertion })).status).toBe(200);
		expect((await post("/probe/bound-reusable", body, { "twofold-assertion": assertion })).status).toBe(200);
		// Not spent at Twofold: the route never redeemed it.
		await expect(client.redeemAssertion(assertion)).resolves.toMatchObject({ redeemed: true });
	});

	it("refuses to be created with an action and no client to spend assertions with, or without tenant, issuer or userId (issue 13)", () => {
		// Both adapters validate through the same decider; the cast only unifies their request types for the compiler.
		const { requireCode, requireStepUp } = (framework === "express" ? forExpress : forFastify) as typeof forExpress;
		const userId = () => user;
		const action = () => ({ op: "x" });
		expect(() => requireStepUp({ ...verifier, userId, action })).toThrow(
			/requireStepUp: "action" binds each assertion to one operation.*pass "redeemWith".*or "singleUse: false"/,
		);
		expect(() => requireStepUp({ ...verifier, userId, singleUse: true })).toThrow(/"singleUse: true" spends each assertion with Twofold: pass "redeemWith"/);
		expect(() => requireStepUp({ ...verifier, userId, action, singleUse: false })).not.toThrow();
		expect(() => requireStepUp({ ...verifier, userId, action, redeemWith: client })).not.toThrow();
		const { tenant: _tenant, ...noTenant } = verifier;
		expect(() => requireStepUp({ ...noTenant, userId } as never)).toThrow(/requireStepUp: the option "tenant" is required: your tenant id/);
		const { issuer: _issuer, ...noIssuer } = verifier;
		expect(() => requireStepUp({ ...noIssuer, userId } as never)).toThrow(/requireStepUp: the option "issuer" is required/);
		expect(() => requireStepUp({ ...verifier } as never)).toThrow(/requireStepUp: the option "userId" is required: a function/);
		expect(() => requireStepUp({ ...verifier, userId, redeemWith: {} as never })).toThrow(/"redeemWith" must be a TwofoldClient/);
		expect(() => requireStepUp({ ...verifier, userId, acrValues: [] })).toThrow(/"acrValues" must be a non-empty list/);
		expect(() => requireCode({ userId } as never)).toThrow(/requireCode: the option "client" is required/);
	});

	it("reports every rejection reason to onRejected, precise, while the client gets a coarse answer; configuration problems reach the logger (issue 13)", async () => {
		const fresh = await stepUp();
		const [h, p, sig] = fresh.split(".") as [string, string, string];
		const header = JSON.parse(Buffer.from(h, "base64url").toString());
		const claims = JSON.parse(Buffer.from(p, "base64url").toString());
		const twofoldKey = await t.app.services.deps.signingKeys.active();
		const attacker = generateKeyPairSync("ed25519");
		const sign = (protectedHeader: object, key = twofoldKey.privateKey) => new SignJWT(claims).setProtectedHeader(protectedHeader as never).sign(key);
		const oldFormat = await stepUp({ method: "POST", path: "/account/email", body_sha256: (await requestAction("POST", "/account/email", {})).body_sha256 } as never);
		const toSpend = await stepUp();
		const cases: [string, string | undefined, RejectionReason, Record<string, string>?][] = [
			["/probe/plain", fresh, "no_user", { "x-user": "" }],
			["/probe/plain", undefined, "missing"],
			["/probe/plain", "not-a-jws", "malformed"],
			["/probe/plain", `${b64({ alg: "none", typ: "twofold-assertion+jwt" })}.${p}.`, "alg_not_allowed"],
			["/probe/plain", await sign({ ...header, typ: "JWT" }), "wrong_type"],
			["/probe/plain", await sign({ alg: "EdDSA", typ: "twofold-assertion+jwt", kid: "sig_made_up" }, attacker.privateKey), "unknown_kid"],
			["/probe/plain", `${h}.${b64({ ...claims, sub: "admin" })}.${sig}`, "bad_signature"],
			["/probe/localhost-issuer", fresh, "issuer_mismatch"],
			["/probe/audience", fresh, "audience_mismatch"],
			["/probe/tenant", fresh, "wrong_tenant"],
			["/probe/an-hour-later", fresh, "expired"],
			["/probe/ten-minutes-earlier", fresh, "not_yet_valid"],
			["/probe/two-minutes-later", fresh, "too_old"],
			["/probe/plain", fresh, "wrong_user", { "x-user": "someone-else" }],
			["/account/email", fresh, "wrong_action"],
			["/account/email", oldFormat, "outdated_action_format"],
			["/probe/phr", fresh, "insufficient_acr"],
			["/probe/other-tenant-key", toSpend, "redeem_refused"],
			["/probe/no-jwks", fresh, "jwks_unavailable"],
			["/probe/no-twofold", toSpend, "twofold_unavailable"],
			["/probe/wrong-key", toSpend, "twofold_unavailable"],
			["/probe/single-use", toSpend, "redeemed"], // spent by the request just below, before these run
		];
		expect(new Set(cases.map(([, , reason]) => reason))).toEqual(new Set(Object.keys(REJECTION_REASONS)));
		expect((await post("/probe/single-use", {}, { "twofold-assertion": toSpend })).status).toBe(200);
		rejections = [];
		warnings = [];
		const answers: { path: string; status: number; challenge: string | null; body: string }[] = [];
		for (const [path, token, , extra = {}] of cases) {
			const headers: Record<string, string> = { "content-type": "application/json", "x-user": user, ...(token === undefined ? {} : { "twofold-assertion": token }), ...extra };
			if (headers["x-user"] === "") delete headers["x-user"];
			const res = await fetch(`${appUrl}${path}`, { method: "POST", headers, body: "{}" });
			answers.push({ path, status: res.status, challenge: res.headers.get("www-authenticate"), body: await res.text() });
		}
		expect(rejections.map(({ path, reason }) => [path, reason])).toEqual(cases.map(([path, , reason]) => [path, reason]));
		const outage = new Set<RejectionReason>(["jwks_unavailable", "twofold_unavailable"]);
		expect(rejections.map(({ reason, status }) => [reason, status])).toEqual(cases.map(([, , reason]) => [reason, outage.has(reason) ? 503 : 401]));
		expect(answers.map(({ status }) => status)).toEqual(rejections.map(({ status }) => status));
		// The client's answer stays coarse: nothing of the configuration (issuer, audience, tenant) leaks.
		for (const [i, answer] of answers.entries()) {
			expect(answer.body, rejections[i]!.reason).not.toMatch(/localhost|api\.example\.com|ten_other|iss|aud|tid|kid/);
			if (answer.status === 503) {
				expect(answer.challenge).toBeNull();
				expect(JSON.parse(answer.body).error.code).toBe("step_up_unavailable");
			} else expect(answer.challenge).toMatch(/^Bearer error="insufficient_user_authentication", error_description="[^"]+"(, acr_values="[^"]+")?, max_age=\d+$/);
		}
		expect(answers[7]!.challenge).toContain('error_description="The second-factor assertion is not valid"');
		// The precise message says what differed, for the one who configured it.
		expect(rejections[7]!.message).toBe('the assertion\'s iss is "http://127.0.0.1:8080", the issuer option "http://localhost:8080"');
		// The logger hears about the configuration and outages only, never about a user without a fresh assertion.
		expect(warnings).toEqual([
			expect.stringMatching(/^twofold step-up refused a request \(issuer_mismatch\): .*"http:\/\/localhost:8080"/),
			expect.stringMatching(/\(audience_mismatch\)/),
			expect.stringMatching(/\(wrong_tenant\)/),
			expect.stringMatching(/\(redeem_refused\)/),
			expect.stringMatching(/\(jwks_unavailable\)/),
			expect.stringMatching(/\(twofold_unavailable\): .*could not be reached/),
			expect.stringMatching(/\(twofold_unavailable\): .*refused redeemWith's API key/),
		]);
		for (const line of warnings) expect(line).not.toContain(toSpend.split(".")[2]!);
	});

	it("header mode: a current code passes once; a replayed, wrong or missing code gets X-2FA: required", async () => {
		nextStep(t.clock);
		const code = codeFor(secret, t.clock());
		expect((await post("/transfer", {}, { "x-2fa-code": code })).status).toBe(200);
		for (const headers of [{ "x-2fa-code": code }, { "x-2fa-code": "000000" }, {}]) {
			const res = await post("/transfer", {}, headers);
			expect(res.status, JSON.stringify(headers)).toBe(401);
			expect(res.headers.get("x-2fa")).toBe("required");
		}
		const events = await client.listEvents({ user_id: user, type: "verification.replay_rejected" });
		expect(events.events).toHaveLength(1);
	});
});
