import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../helpers.js";
import { SoftwareAuthenticator } from "../software-authenticator.js";

const ORIGIN = "http://localhost:5173";
const RP_ID = "localhost";

interface LogLine {
	level: number;
	msg: string;
	[field: string]: unknown;
}

/**
 * A refused WebAuthn response tells the client nothing more than invalid_code (V-15), but the operator's log says why
 * (issue 14): the ceremony, a short reason, the tenant and user ids, and nothing of the credential, the challenge or
 * the response (R-ST-4).
 */
describe("WebAuthn refusals are logged with their reason and no secret", () => {
	let t: TestApp;
	const lines: string[] = [];
	beforeAll(async () => {
		const stream = new Writable({
			write(chunk, _encoding, done) {
				lines.push(...String(chunk).split("\n").filter((line) => line !== ""));
				done();
			},
		});
		t = await buildTestApp({ logger: { level: "trace", stream } });
		expect((await t.call("PATCH", "/v1/tenant", { webauthn: { rp_id: RP_ID, rp_name: "Acme", origins: [ORIGIN] } })).status).toBe(200);
	});
	afterAll(() => t.close());

	const refusals = (): LogLine[] => lines.map((line) => JSON.parse(line) as LogLine).filter((line) => line.msg === "webauthn response refused");

	/** Every string of a credential response, and of the options it answered: none may reach the log. */
	function secretsOf(...values: unknown[]): string[] {
		const found: string[] = [];
		const walk = (value: unknown): void => {
			if (typeof value === "string" && value.length >= 16) found.push(value);
			else if (Array.isArray(value)) value.forEach(walk);
			else if (typeof value === "object" && value !== null) Object.values(value).forEach(walk);
		};
		values.forEach(walk);
		return found;
	}

	it("a registration from another origin: reason origin_mismatch at warn, for the tenant and user only", async () => {
		const authenticator = new SoftwareAuthenticator(RP_ID, ORIGIN);
		const enrolled = await t.call("POST", "/v1/users/log-reg/factors", { type: "webauthn", label: "key" });
		expect(enrolled.status).toBe(201);
		const { options } = enrolled.json.webauthn;
		const credential = authenticator.register(options, { origin: "https://evil.example" });
		const before = refusals().length;
		const refused = await t.call("POST", `/v1/users/log-reg/factors/${enrolled.json.factor.id}/confirm`, { credential });
		expect(refused.status).toBe(422);
		const logged = refusals().slice(before);
		expect(logged).toEqual([expect.objectContaining({ level: 40, ceremony: "registration", reason: "origin_mismatch", tenant_id: t.tenantId, user_id: "log-reg" })]);
		const log = lines.join("\n");
		for (const secret of secretsOf(credential, options)) expect(log).not.toContain(secret);
	});

	it("refused assertions name their reason: origin, signature, challenge, rp id; the log holds no part of them", async () => {
		const authenticator = new SoftwareAuthenticator(RP_ID, ORIGIN);
		const enrolled = await t.call("POST", "/v1/users/log-auth/factors", { type: "webauthn", label: "key" });
		const confirmed = await t.call("POST", `/v1/users/log-auth/factors/${enrolled.json.factor.id}/confirm`, { credential: authenticator.register(enrolled.json.webauthn.options) });
		expect(confirmed.status, confirmed.body).toBe(200);

		const flipLastSignatureByte = (credential: Record<string, unknown>): Record<string, unknown> => {
			const response = credential.response as Record<string, string>;
			const signature = Buffer.from(response.signature!, "base64url");
			signature[signature.length - 1]! ^= 0x01;
			return { ...credential, response: { ...response, signature: signature.toString("base64url") } };
		};
		const cases: [string, (options: { challenge: string }) => Record<string, unknown>, number][] = [
			["origin_mismatch", (o) => authenticator.assert(o, { origin: "https://evil.example" }), 40],
			["bad_signature", (o) => flipLastSignatureByte(authenticator.assert(o)), 30],
			["challenge_mismatch", (o) => authenticator.assert(o, { challenge: Buffer.alloc(32, 7).toString("base64url") }), 30],
			["rp_id_mismatch", (o) => authenticator.assert(o, { rpId: "example.com" }), 40],
		];
		const sent: unknown[] = [];
		for (const [reason, make, level] of cases) {
			const challenge = await t.call("POST", "/v1/users/log-auth/challenges", { type: "webauthn" });
			expect(challenge.status).toBe(201);
			const credential = make(challenge.json.webauthn.options);
			sent.push(credential, challenge.json.webauthn.options);
			const before = refusals().length;
			const refused = await t.call("POST", "/v1/users/log-auth/verify", { challenge_id: challenge.json.challenge.id, credential });
			expect(refused.json.error?.code, reason).toBe("invalid_code");
			expect(refusals().slice(before), reason).toEqual([expect.objectContaining({ level, ceremony: "authentication", reason, tenant_id: t.tenantId, user_id: "log-auth" })]);
			expect((await t.call("POST", "/v1/users/log-auth/unlock")).status).toBe(204);
		}
		// A challenge mismatch's library message quotes both challenges: it is logged without a detail.
		expect(refusals().find((line) => line.reason === "challenge_mismatch")).not.toHaveProperty("detail");
		const log = lines.join("\n");
		const secrets = secretsOf(...sent);
		expect(secrets.length).toBeGreaterThan(10);
		for (const secret of secrets) expect(log).not.toContain(secret);
		expect(log).not.toContain(authenticator.id);
	});
});
