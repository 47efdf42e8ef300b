import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, enrollActive, nextStep, type TestApp } from "../../server/test/helpers.js";
import { SMTPSink } from "../../server/test/smtp-sink.js";
import * as forExpress from "../src/express.js";
import * as forFastify from "../src/fastify.js";
import { ACR, DEFAULT_ACR_VALUES, requestAction, TwofoldClient } from "../src/index.js";

const ISSUER = "http://127.0.0.1:8080";

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
		const twofoldUrl = await t.http.listen({ host: "127.0.0.1", port: 0 });
		client = new TwofoldClient({ baseUrl: twofoldUrl, apiKey: t.adminKey });
		({ secret } = await enrollActive(t, user));
		// The routes' clock is Twofold's test clock, which nextStep moves ahead of real time (iat in the future is refused).
		const verifier = { issuer: ISSUER, tenant: t.tenantId, jwksUrl: `${twofoldUrl}/.well-known/jwks.json`, now: t.clock };

		if (framework === "express") {
			const { requireCode, requireStepUp } = forExpress;
			const app = express();
			app.use(express.json());
			// x-user stands in for the application's own session.
			const userId = (req: express.Request) => req.get("x-user");
			const action = (req: express.Request) => requestAction(req);
			app.post("/account/email", requireStepUp({ ...verifier, userId, action }), (_req, res) => void res.json({ changed: true, amr: res.locals.twofold.amr }));
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
			app.post("/account/email", { preHandler: requireStepUp({ ...verifier, userId, action }) }, async (req) => ({ changed: true, amr: stepUpClaims(req)!.amr }));
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
