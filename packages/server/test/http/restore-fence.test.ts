import { decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBase32 } from "../../src/core/base32.js";
import { generateHOTP } from "../../src/core/hotp.js";
import { fenceAfterRestore } from "../../src/services/restore-fence.js";
import { buildTestApp, codeFor, DIALECTS, enrollActive, nextStep, type TestApp } from "../helpers.js";
import { SMTPSink } from "../smtp-sink.js";

/**
 * The restore fence's effects on both dialects (D-6), with the test clock: it
 * treats every code that could have been accepted before it as used. The real
 * backup-and-restore drill is test/e2e/restore-drill.test.ts.
 */
describe.each(DIALECTS)("restore fence (%s)", (dialect) => {
	let t: TestApp;
	let smtp: SMTPSink;
	beforeAll(async () => {
		smtp = new SMTPSink();
		await smtp.start();
		t = await buildTestApp({ dialect, env: { TWOFOLD_SMTP_URL: smtp.url, TWOFOLD_SMTP_FROM: "twofold@example.com" } });
		await t.call("PATCH", "/v1/tenant", { email: { enabled: true } });
	});
	afterAll(async () => {
		await t.close();
		await smtp.stop();
	});

	it("refuses every code of the current and next step, open challenges and earlier assertions; new ones work", async () => {
		nextStep(t.clock);
		const { secret, recoveryCodes } = await enrollActive(t, "fenced");
		const { secret: secret15 } = await enrollActive(t, "fenced-15", { period: 15 });
		const earlier = (await t.call("POST", "/v1/users/fenced/verify", { code: codeFor(secret, t.clock().getTime() + 30_000) })).json.assertion as string;
		const challenge = (await t.call("POST", "/v1/users/fenced/challenges", { type: "email", to: "fenced@example.com" })).json.challenge.id as string;
		const emailCode = smtp.codeFor("fenced@example.com");
		const oldKids = ((await t.call("GET", "/.well-known/jwks.json")).json.keys as { kid: string }[]).map((k) => k.kid);

		const report = await fenceAfterRestore(t.app.services.deps, { revokeRecoveryCodes: false });
		// "fenced" used the next step's code already, so only "fenced-15" needed raising.
		expect(report).toMatchObject({ totp_factors_fenced: 1, challenges_revoked: 1, recovery_code_users_revoked: null, tenants_notified: 1 });
		expect(report.signing_keys_withdrawn).toEqual(oldKids);
		// The fence runs with the nodes stopped; a node that kept running re-reads the key list within a second.
		t.clock.advance(1_000);

		// Not one of the codes a restore could have re-opened is accepted: the current step, the next,
		// for either period, the open email code, or an assertion from before.
		for (const at of [0, 30_000]) expect((await t.call("POST", "/v1/users/fenced/verify", { code: codeFor(secret, t.clock().getTime() + at) })).json.error.code).toBe("invalid_code");
		for (const at of [0, 15_000]) {
			expect((await t.call("POST", "/v1/users/fenced-15/verify", { code: codeFor(secret15, t.clock().getTime() + at, { period: 15 }) })).json.error.code).toBe("invalid_code");
		}
		expect((await t.call("POST", "/v1/users/fenced/verify", { challenge_id: challenge, code: emailCode })).json.error.code).toBe("invalid_code");
		expect((await t.call("POST", "/v1/assertions/redeem", { assertion: earlier })).json.error.code).toBe("invalid_assertion");
		const jwks = (await t.call("GET", "/.well-known/jwks.json")).json.keys as { kid: string }[];
		expect(jwks.map((k) => k.kid)).toEqual([report.signing_key]);

		// Without --revoke-recovery-codes, recovery codes are left as they are (the operator was told).
		const recovered = await t.call("POST", "/v1/users/fenced/verify", { code: recoveryCodes[0] });
		expect(recovered.status).toBe(200);
		expect(decodeProtectedHeader(recovered.json.assertion).kid).toBe(report.signing_key);
		expect((await t.call("POST", "/v1/assertions/redeem", { assertion: recovered.json.assertion })).status).toBe(200);

		// The user's next code works within one period.
		t.clock.advance(30_000);
		nextStep(t.clock);
		expect((await t.call("POST", "/v1/users/fenced/verify", { code: codeFor(secret, t.clock()) })).status).toBe(200);
		const events = (await t.call("GET", "/v1/events?type=service.restore_fenced")).json.events;
		expect(events).toHaveLength(1);
		expect(events[0].data).toEqual({ recovery_codes_revoked: false, users_with_recovery_codes_revoked: null });
	});

	it("with revokeRecoveryCodes, every unused recovery code is refused and users are counted", async () => {
		nextStep(t.clock);
		const { recoveryCodes } = await enrollActive(t, "fenced-rc");
		const report = await fenceAfterRestore(t.app.services.deps, { revokeRecoveryCodes: true });
		// "fenced" still had 9 codes left; "fenced-15" has its 10.
		expect(report.recovery_code_users_revoked).toBe(3);
		expect((await t.call("POST", "/v1/users/fenced-rc/verify", { code: recoveryCodes[1] })).json.error.code).toBe("invalid_code");
		expect((await t.call("GET", "/v1/users/fenced-rc")).json.recovery_codes_remaining).toBe(0);
		const events = (await t.call("GET", "/v1/events?type=service.restore_fenced")).json.events;
		expect(events[0].data).toEqual({ recovery_codes_revoked: true, users_with_recovery_codes_revoked: 3 });
	});

	it("advances every HOTP counter past what one verify since the backup could accept (look_ahead + 1), or by the operator's number", async () => {
		const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // RFC 4226 Appendix D
		const code = (counter: number) => generateHOTP(decodeBase32(secret)!, BigInt(counter), 6, "SHA1");
		const counterOf = async (user: string, id: string) => Number((await t.app.services.deps.store.factors.find(t.tenantId, user, id))!.last_used_step);
		const enrolled = await t.call("POST", "/v1/users/fenced-hotp/factors", { type: "hotp", secret });
		const id = enrolled.json.factor.id as string;
		expect((await t.call("POST", `/v1/users/fenced-hotp/factors/${id}/confirm`, { code: code(0) })).status).toBe(200);
		// A deleted HOTP factor is not touched or counted.
		const gone = (await t.call("POST", "/v1/users/fenced-hotp-gone/factors", { type: "hotp", secret })).json.factor.id as string;
		await t.call("DELETE", `/v1/users/fenced-hotp-gone/factors/${gone}`);

		// Restored at counter 0: a verify after the backup accepted at most counter 0+1+10 (the default look-ahead).
		const report = await fenceAfterRestore(t.app.services.deps, { revokeRecoveryCodes: false });
		expect(report).toMatchObject({ hotp_factors_fenced: 1, hotp_counters_advanced_by: null });
		expect(await counterOf("fenced-hotp", id)).toBe(11);
		for (const counter of [1, 6, 11]) expect((await t.call("POST", "/v1/users/fenced-hotp/verify", { code: code(counter) })).json.error.code).toBe("invalid_code");
		t.clock.advance(301_000);
		expect((await t.call("POST", "/v1/users/fenced-hotp/verify", { code: code(12) })).json.method).toBe("hotp");

		// The tenant's look-ahead decides the default; the operator's number overrides it.
		await t.call("PATCH", "/v1/tenant", { hotp: { look_ahead: 3 } });
		await fenceAfterRestore(t.app.services.deps, { revokeRecoveryCodes: false });
		expect(await counterOf("fenced-hotp", id)).toBe(16);
		await t.call("PATCH", "/v1/tenant", { hotp: { look_ahead: 10 } });
		expect(await fenceAfterRestore(t.app.services.deps, { revokeRecoveryCodes: false, hotpAdvance: 50 })).toMatchObject({ hotp_factors_fenced: 1, hotp_counters_advanced_by: 50 });
		expect(await counterOf("fenced-hotp", id)).toBe(66);
		expect((await t.call("POST", "/v1/users/fenced-hotp/verify", { code: code(67) })).status).toBe(200);
	});
});
