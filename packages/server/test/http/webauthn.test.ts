import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, DIALECTS, type TestApp } from "../helpers.js";
import { FLAGS, SoftwareAuthenticator } from "../software-authenticator.js";

const ORIGIN = "http://localhost:5173";
const RP_ID = "localhost";

/** WebAuthn over the public HTTP API (V-15, R-WA-1…6), with a software authenticator; Chromium runs the positive path in test/e2e. */
describe.each(DIALECTS)("WebAuthn factors (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
		const patched = await t.call("PATCH", "/v1/tenant", { webauthn: { rp_id: RP_ID, rp_name: "Acme", origins: [ORIGIN] } });
		expect(patched.status).toBe(200);
	});
	afterAll(() => t.close());

	async function register(user: string, authenticator = new SoftwareAuthenticator(RP_ID, ORIGIN), proof: Record<string, unknown> = {}) {
		const enrolled = await t.call("POST", `/v1/users/${user}/factors`, { type: "webauthn", label: "key", ...proof });
		expect(enrolled.status, enrolled.body).toBe(201);
		const { options } = enrolled.json.webauthn;
		const confirmed = await t.call("POST", `/v1/users/${user}/factors/${enrolled.json.factor.id}/confirm`, { credential: authenticator.register(options) });
		expect(confirmed.status, confirmed.body).toBe(200);
		return { authenticator, factorId: enrolled.json.factor.id as string, recoveryCodes: confirmed.json.recovery_codes as string[] | undefined };
	}

	async function challenge(user: string) {
		const res = await t.call("POST", `/v1/users/${user}/challenges`, { type: "webauthn" });
		expect(res.status, res.body).toBe(201);
		return { id: res.json.challenge.id as string, options: res.json.webauthn.options };
	}

	const verify = (user: string, challengeId: string, credential: unknown) => t.call("POST", `/v1/users/${user}/verify`, { challenge_id: challengeId, credential });

	it("registers, verifies once, counts up, and refuses the same assertion again (R-WA-2, R-WA-3)", async () => {
		const { authenticator, factorId, recoveryCodes } = await register("wa-ok");
		expect(recoveryCodes).toHaveLength(10);
		const c = await challenge("wa-ok");
		expect(c.options).toMatchObject({ rpId: RP_ID, userVerification: "required", allowCredentials: [{ id: authenticator.id, type: "public-key" }] });
		expect(Buffer.from(c.options.challenge, "base64url")).toHaveLength(32);
		const assertion = authenticator.assert(c.options);
		const ok = await verify("wa-ok", c.id, assertion);
		expect(ok.json).toEqual({ valid: true, method: "webauthn", factor_id: factorId, recovery_codes_remaining: 10, assertion: expect.any(String) });
		expect((await verify("wa-ok", c.id, assertion)).json.error.code).toBe("invalid_code");
		const again = await challenge("wa-ok");
		expect((await verify("wa-ok", again.id, authenticator.assert(again.options))).status).toBe(200);
		const replays = await t.call("GET", "/v1/events?user_id=wa-ok&type=verification.replay_rejected");
		expect(replays.json.events[0].data).toMatchObject({ method: "webauthn" });
	});

	it("needs the tenant's relying party first", async () => {
		const other = await t.app.services.tenants.create(`bare-${dialect}`);
		const res = await t.call("POST", "/v1/users/u/factors", { type: "webauthn" }, other.apiKey);
		expect(res.json.error.code).toBe("webauthn_not_configured");
		// The challenge route: a wrong body is a 400; a user without WebAuthn gets a clear 409.
		expect((await t.call("POST", "/v1/users/u/challenges", { type: "totp" })).json.error.code).toBe("invalid_request");
		expect((await t.call("POST", "/v1/users/u/challenges", { type: "webauthn", extra: 1 })).json.error.code).toBe("invalid_request");
		expect((await t.call("POST", "/v1/users/nobody/challenges", { type: "webauthn" })).json.error.code).toBe("no_webauthn_factor");
	});

	it("each ceremony check refuses on its own, and every refusal is a counted attempt (V-15)", async () => {
		const { authenticator } = await register("wa-neg");
		const other = await register("wa-other");
		const cases: [string, (options: { challenge: string }) => unknown, string?][] = [
			["wrong origin", (o) => authenticator.assert(o, { origin: "https://evil.example" })],
			["http variant of a subdomain", (o) => authenticator.assert(o, { origin: "http://sub.localhost:5173" })],
			["wrong rp id hash", (o) => authenticator.assert(o, { rpId: "example.com" })],
			["webauthn.create on get", (o) => authenticator.assert(o, { type: "webauthn.create" })],
			["user presence missing", (o) => authenticator.assert(o, { flags: FLAGS.UV })],
			["user verification missing under required", (o) => authenticator.assert(o, { flags: FLAGS.UP })],
			["crossOrigin true", (o) => authenticator.assert(o, { crossOrigin: true })],
			["another user's handle", (o) => authenticator.assert(o, { userHandle: "c29tZW9uZS1lbHNl" })],
			["signed over another challenge", (o) => authenticator.assert(o, { challenge: Buffer.alloc(32, 7).toString("base64url") })],
			["another user's credential", (o) => other.authenticator.assert(o)],
			["malformed credential", () => ({ id: authenticator.id, response: "nope" })],
			["not an object", () => "credential"],
		];
		// The count is read back after every refusal (not only the newest event at the end): each one,
		// including the reuse of a spent challenge, must raise the user's count by exactly one.
		let failures = 0;
		const expectCounted = async (label: string) => {
			failures += 1;
			const newest = await t.call("GET", "/v1/events?user_id=wa-neg&type=verification.failed&limit=1");
			expect(newest.json.events[0]?.data, label).toMatchObject({ purpose: "verify", failed_attempts: failures });
		};
		for (const [name, make] of cases) {
			const c = await challenge("wa-neg");
			const res = await verify("wa-neg", c.id, make(c.options));
			expect(res.json.error?.code, name).toBe("invalid_code");
			await expectCounted(name);
			// Each challenge is gone after its one use, even though it failed (R-WA-2).
			expect((await verify("wa-neg", c.id, authenticator.assert(c.options))).json.error?.code, `${name}: reuse`).toBe("invalid_code");
			await expectCounted(`${name}: reuse`);
			// Under the default throttle (5): start each case from zero, so no refusal is a throttled one.
			expect((await t.call("POST", "/v1/users/wa-neg/unlock")).status).toBe(204);
			failures = 0;
		}
		// The count lives in the user row, not only in the audit trail: at the limit, even a correct
		// assertion is refused unevaluated (R-OTP-6, V-4).
		expect((await t.call("PATCH", "/v1/tenant", { attempts: { lock_after: 3 } })).status).toBe(200);
		try {
			// Taken before the lock: a locked user is refused a new challenge (issue 12 #7), so this one carries the correct assertion.
			const held = await challenge("wa-neg");
			for (const [name, make] of cases.slice(0, 3)) {
				const c = await challenge("wa-neg");
				expect((await verify("wa-neg", c.id, make(c.options))).json.error?.code, name).toBe("invalid_code");
			}
			const refused = await t.call("POST", "/v1/users/wa-neg/challenges", { type: "webauthn" });
			expect(refused.status).toBe(423);
			const locked = await verify("wa-neg", held.id, authenticator.assert(held.options));
			expect(locked.json.error?.code).toBe("locked");
		} finally {
			expect((await t.call("PATCH", "/v1/tenant", { attempts: { lock_after: 100 } })).status).toBe(200);
			await t.call("POST", "/v1/users/wa-neg/unlock");
		}
	});

	it("expired, another user's, and registration challenges are refused", async () => {
		const { authenticator } = await register("wa-chal");
		await register("wa-chal-b");
		const c = await challenge("wa-chal");
		t.clock.advance(5 * 60 * 1000 + 1);
		expect((await verify("wa-chal", c.id, authenticator.assert(c.options))).json.error.code).toBe("invalid_code");
		const b = await challenge("wa-chal-b");
		expect((await verify("wa-chal", b.id, authenticator.assert(b.options))).json.error.code).toBe("invalid_code");
		await t.call("POST", "/v1/users/wa-chal/unlock");
		const ok = await challenge("wa-chal");
		expect((await verify("wa-chal", ok.id, authenticator.assert(ok.options))).status).toBe(200);
	});

	it("a counter that does not rise is refused and audited (R-WA-3)", async () => {
		const { authenticator } = await register("wa-count");
		const first = await challenge("wa-count");
		expect((await verify("wa-count", first.id, authenticator.assert(first.options))).status).toBe(200);
		const second = await challenge("wa-count");
		const res = await verify("wa-count", second.id, authenticator.assert(second.options, { counter: authenticator.counter }));
		expect(res.json.error.code).toBe("invalid_code");
		const events = await t.call("GET", "/v1/events?user_id=wa-count&type=webauthn.counter_regression");
		expect(events.json.events[0].data).toEqual({ stored_counter: 1, presented_counter: 1 });
	});

	it("registration checks: origin, user verification, a used challenge, and one credential id across all users and tenants (R-WA-6)", async () => {
		const enroll = async (user: string, key?: string) => (await t.call("POST", `/v1/users/${user}/factors`, { type: "webauthn" }, key)).json;
		const confirm = (user: string, factorId: string, credential: unknown, key?: string) =>
			t.call("POST", `/v1/users/${user}/factors/${factorId}/confirm`, { credential }, key);
		const authenticator = new SoftwareAuthenticator(RP_ID, ORIGIN);
		const bad = await enroll("wa-reg");
		expect((await confirm("wa-reg", bad.factor.id, authenticator.register(bad.webauthn.options, { origin: "https://evil.example" }))).json.error.code).toBe(
			"invalid_credential",
		);
		// The challenge was used by the failed attempt: a correct response now is refused too.
		expect((await confirm("wa-reg", bad.factor.id, authenticator.register(bad.webauthn.options))).json.error.code).toBe("invalid_credential");
		// The audit trail names the refusal (the caller's error code), not the attempt path's category.
		const refusals = await t.call("GET", "/v1/events?user_id=wa-reg&type=verification.failed&limit=10");
		expect(refusals.json.events.map((event: { data: { purpose: string; reason: string } }) => [event.data.purpose, event.data.reason])).toEqual([
			["confirm", "invalid_credential"],
			["confirm", "invalid_credential"],
		]);
		const noUV = await enroll("wa-reg");
		expect((await confirm("wa-reg", noUV.factor.id, authenticator.register(noUV.webauthn.options, { flags: FLAGS.UP | FLAGS.AT }))).json.error.code).toBe(
			"invalid_credential",
		);
		await register("wa-dup", authenticator);
		const again = await enroll("wa-dup-2");
		expect((await confirm("wa-dup-2", again.factor.id, authenticator.register(again.webauthn.options))).json.error.code).toBe("credential_exists");
		const other = await t.app.services.tenants.create(`dup-${dialect}`);
		await t.app.services.tenants.update(
			{ ...(await t.app.services.apiKeys.authenticate(other.apiKey))!, scope: "admin" },
			{ webauthn: { rp_id: RP_ID, rp_name: "Other", origins: [ORIGIN] } },
		);
		const cross = await enroll("wa-dup", other.apiKey);
		expect((await confirm("wa-dup", cross.factor.id, authenticator.register(cross.webauthn.options), other.apiKey)).json.error.code).toBe("credential_exists");
	});

	it("one credential registered for ten users at once: exactly one binds it, the rest get credential_exists (R-WA-6)", async () => {
		const authenticator = new SoftwareAuthenticator(RP_ID, ORIGIN);
		const users = Array.from({ length: 10 }, (_, i) => `wa-tie-${i}`);
		const pending = await Promise.all(users.map(async (user) => ({ user, ...(await t.call("POST", `/v1/users/${user}/factors`, { type: "webauthn" })).json })));
		const results = await Promise.all(
			pending.map(({ user, factor, webauthn }) => t.call("POST", `/v1/users/${user}/factors/${factor.id}/confirm`, { credential: authenticator.register(webauthn.options) })),
		);
		expect(results.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(409)]);
		expect(results.filter((r) => r.status === 409).every((r) => r.json.error.code === "credential_exists")).toBe(true);
		// The losers' factors stayed pending: no factor went active without its credential.
		const active = await Promise.all(users.map(async (user) => (await t.call("GET", `/v1/users/${user}/factors`)).json.factors.filter((f: { status: string }) => f.status === "active").length));
		expect(active.reduce((a, b) => a + b, 0)).toBe(1);
	});

	it("a second factor needs a proof from the first; a WebAuthn assertion is one (R-LC-1)", async () => {
		const { authenticator } = await register("wa-two");
		expect((await t.call("POST", "/v1/users/wa-two/factors", { type: "webauthn" })).json.error.code).toBe("proof_required");
		const c = await challenge("wa-two");
		const second = await register("wa-two", new SoftwareAuthenticator(RP_ID, ORIGIN), { challenge_id: c.id, credential: authenticator.assert(c.options) });
		const next = await challenge("wa-two");
		expect(next.options.allowCredentials).toHaveLength(2);
		expect((await verify("wa-two", next.id, second.authenticator.assert(next.options))).json.factor_id).toBe(second.factorId);
		// A removed factor's credential stops working at once (R-LC-3).
		const removal = await challenge("wa-two");
		expect((await t.call("DELETE", `/v1/users/wa-two/factors/${second.factorId}`, { challenge_id: removal.id, credential: authenticator.assert(removal.options) })).status).toBe(204);
		const after = await challenge("wa-two");
		expect((await verify("wa-two", after.id, second.authenticator.assert(after.options))).json.error.code).toBe("invalid_code");
	});

	it("50 concurrent submissions of one valid assertion: exactly one success (V-3)", async () => {
		const { authenticator } = await register("wa-race");
		const c = await challenge("wa-race");
		const assertion = authenticator.assert(c.options);
		const results = await Promise.all(Array.from({ length: 50 }, () => verify("wa-race", c.id, assertion)));
		expect(results.filter((r) => r.status === 200)).toHaveLength(1);
		expect(results.filter((r) => r.status !== 200).every((r) => r.json.error.code === "invalid_code" || r.json.error.code === "too_many_attempts")).toBe(true);
	});
});

describe("the browser helper (GET /v1/browser.js)", () => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp();
	});
	afterAll(() => t.close());

	it("is a public, self-contained ES module exporting register and authenticate", async () => {
		const res = await t.call("GET", "/v1/browser.js", undefined, null);
		expect(res.status).toBe(200);
		expect(res.headers["content-type"]).toContain("text/javascript");
		expect(res.headers["access-control-allow-origin"]).toBe("*"); // a module script loaded from the application's origin
		expect(res.body).not.toMatch(/^\s*import\s/m);
		const module = await import(`data:text/javascript;base64,${Buffer.from(res.body).toString("base64")}`);
		expect(typeof module.register).toBe("function");
		expect(typeof module.authenticate).toBe("function");
		expect(module.supported()).toBe(false); // no PublicKeyCredential in Node; true in a browser
		expect((globalThis as { SimpleWebAuthnBrowser?: unknown }).SimpleWebAuthnBrowser).toBeUndefined();
	});
});
