import { decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, enrollActive, nextStep, type TestApp } from "../../server/test/helpers.js";
import { SMTPSink } from "../../server/test/smtp-sink.js";
import { SoftwareAuthenticator } from "../../server/test/software-authenticator.js";
import { ACR, ALGORITHMS, ASSERTION_TYP, createVerifier } from "../src/index.js";

const ISSUER = "http://127.0.0.1:8080"; // the test app's configured issuer
const ORIGIN = "http://localhost:5173";
const RP_ID = "localhost";

/**
 * The server and the SDK compile one contract (shared/assertion-contract.ts, issue 14); this checks that they also
 * agree on what it means: Twofold issues an assertion at every acr level the contract lists, each through its real
 * proof (TOTP, passkey, recovery code, email code), and the SDK's verifier accepts each one with the contract's typ
 * and algorithms, while Twofold reads each back (redeem). An acr level with no path that issues it, or a claim the
 * SDK would call malformed, fails here.
 */
describe("the SDK accepts every kind of assertion Twofold issues (issue 14)", () => {
	let t: TestApp;
	let smtp: SMTPSink;
	let verifier: ReturnType<typeof createVerifier>;
	const issued = new Map<string, string>();

	async function verified(user: string, body: Record<string, unknown>): Promise<string> {
		const res = await t.call("POST", `/v1/users/${user}/verify`, body);
		expect(res.status, res.body).toBe(200);
		return res.json.assertion as string;
	}

	beforeAll(async () => {
		smtp = new SMTPSink();
		await smtp.start();
		t = await buildTestApp({ env: { TWOFOLD_SMTP_URL: smtp.url, TWOFOLD_SMTP_FROM: "twofold@example.com" } });
		const patched = await t.call("PATCH", "/v1/tenant", { webauthn: { rp_id: RP_ID, rp_name: "Acme", origins: [ORIGIN] }, email: { enabled: true } });
		expect(patched.status, patched.body).toBe(200);
		const twofold = await t.http.listen({ host: "127.0.0.1", port: 0 });
		// Twofold's test clock runs ahead of real time after nextStep: the verifier reads the same clock.
		verifier = createVerifier({ issuer: ISSUER, tenant: t.tenantId, jwksUrl: `${twofold}/.well-known/jwks.json`, now: t.clock });

		const { secret, recoveryCodes } = await enrollActive(t, "contract-totp");
		nextStep(t.clock);
		issued.set("TOTP code", await verified("contract-totp", { code: codeFor(secret, t.clock()) }));
		issued.set("recovery code", await verified("contract-totp", { code: recoveryCodes[0] }));
		nextStep(t.clock);
		const sent = await t.call("POST", "/v1/users/contract-totp/challenges", { type: "email", to: "contract@example.com" });
		expect(sent.status, sent.body).toBe(201);
		issued.set("email code", await verified("contract-totp", { challenge_id: sent.json.challenge.id, code: smtp.codeFor("contract@example.com") }));

		const authenticator = new SoftwareAuthenticator(RP_ID, ORIGIN);
		const enrolled = await t.call("POST", "/v1/users/contract-passkey/factors", { type: "webauthn" });
		expect(enrolled.status, enrolled.body).toBe(201);
		const confirmed = await t.call("POST", `/v1/users/contract-passkey/factors/${enrolled.json.factor.id}/confirm`, { credential: authenticator.register(enrolled.json.webauthn.options) });
		expect(confirmed.status, confirmed.body).toBe(200);
		const challenge = await t.call("POST", "/v1/users/contract-passkey/challenges", { type: "webauthn" });
		expect(challenge.status, challenge.body).toBe(201);
		issued.set("passkey", await verified("contract-passkey", { challenge_id: challenge.json.challenge.id, credential: authenticator.assert(challenge.json.webauthn.options) }));
	});
	afterAll(async () => {
		await t.close();
		await smtp.stop();
	});

	it("each proof's assertion has the contract's header, verifies with every acr level allowed, and Twofold redeems it", async () => {
		const levels = new Set<string>();
		for (const [proof, assertion] of issued) {
			const header = decodeProtectedHeader(assertion);
			expect(header.typ, proof).toBe(ASSERTION_TYP);
			expect(ALGORITHMS, proof).toContain(header.alg);
			const claims = await verifier.verify(assertion, { acrValues: Object.values(ACR) });
			levels.add(claims.acr);
			const redeemed = await t.call("POST", "/v1/assertions/redeem", { assertion });
			expect(redeemed.status, `${proof}: ${redeemed.body}`).toBe(200);
		}
		// Every level the contract declares is one Twofold issues, and Twofold issues no other.
		expect([...levels].sort()).toEqual(Object.values(ACR).sort());
	});
});
