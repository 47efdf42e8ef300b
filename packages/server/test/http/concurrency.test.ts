import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBase32 } from "../../src/core/base32.js";
import { generateHOTP } from "../../src/core/hotp.js";
import { buildTestApp, codeFor, DIALECTS, enrollActive, nextStep, type TestApp } from "../helpers.js";

const PARALLEL = 50;
const ROUNDS = 20;

/**
 * V-3 / R-OTP-1 / R-RC-3 over real HTTP on loopback (TOTP, HOTP and recovery codes): 50 submissions of one
 * valid code, all sent before any is answered, give exactly one success.
 */
describe.each(DIALECTS)("concurrent double use over HTTP (%s)", (dialect) => {
	let t: TestApp;
	let base: string;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
		base = await t.http.listen({ host: "127.0.0.1", port: 0 });
	});
	afterAll(() => t.close());

	async function burst(user: string, code: string): Promise<number[]> {
		const body = JSON.stringify({ code });
		const headers = { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" };
		const responses = await Promise.all(
			Array.from({ length: PARALLEL }, () => fetch(`${base}/v1/users/${user}/verify`, { method: "POST", headers, body })),
		);
		await Promise.all(responses.map((r) => r.arrayBuffer()));
		return responses.map((r) => r.status);
	}

	it(`one TOTP code, ${PARALLEL} at once, ${ROUNDS} rounds: exactly one 200 each round`, async () => {
		const { secret } = await enrollActive(t, "race-totp");
		for (let round = 0; round < ROUNDS; round++) {
			nextStep(t.clock);
			const statuses = await burst("race-totp", codeFor(secret, t.clock()));
			expect(statuses.filter((s) => s === 200), `round ${round}`).toHaveLength(1);
			// The losers are ordinary failures: 422, or 429 once the failures of earlier rounds throttle.
			expect(statuses.every((s) => s === 200 || s === 422 || s === 429)).toBe(true);
			// Clear the failure count between rounds, as a success would.
			await t.call("POST", "/v1/users/race-totp/unlock");
		}
	});

	it(`a verify and a resync presenting the same HOTP code at once, ${ROUNDS} rounds: the code is spent once (R-OTP-1)`, async () => {
		// The resync's two codes are c and c+1; the verify presents c. Whichever commits second must find c spent,
		// even when its attempt read the factor row before the other's commit (PostgreSQL locks only the user row).
		const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
		const key = decodeBase32(secret)!;
		const enrolled = await t.call("POST", "/v1/users/race-resync/factors", { type: "hotp", secret });
		const id = enrolled.json.factor.id as string;
		expect((await t.call("POST", `/v1/users/race-resync/factors/${id}/confirm`, { code: "755224" })).status).toBe(200);
		let counter = 0;
		let both = 0;
		for (let round = 0; round < ROUNDS; round++) {
			const c = counter + 1;
			const code = (n: number) => generateHOTP(key, BigInt(n), 6, "SHA1");
			const [verified, resynced] = await Promise.all([
				t.call("POST", "/v1/users/race-resync/verify", { code: code(c) }),
				t.call("POST", `/v1/users/race-resync/factors/${id}/resync`, { codes: [code(c), code(c + 1)] }),
			]);
			if (verified.status === 200 && resynced.status === 200) both++;
			counter = Number((await t.app.services.deps.store.factors.find(t.tenantId, "race-resync", id))!.last_used_step);
			await t.call("POST", "/v1/users/race-resync/unlock");
		}
		expect(both, "rounds in which the verify and the resync both spent the same code").toBe(0);
	});

	it(`one HOTP code, ${PARALLEL} at once, ${ROUNDS} rounds: exactly one 200 each round, and the counter moves to it once`, async () => {
		// RFC 4226 Appendix D's secret, imported at counter 0; each round sends a code a few counters ahead (look-ahead).
		const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
		const key = decodeBase32(secret)!;
		const enrolled = await t.call("POST", "/v1/users/race-hotp/factors", { type: "hotp", secret });
		const id = enrolled.json.factor.id as string;
		expect((await t.call("POST", `/v1/users/race-hotp/factors/${id}/confirm`, { code: "755224" })).status).toBe(200);
		let counter = 0;
		for (let round = 0; round < ROUNDS; round++) {
			counter += 1 + (round % 3);
			const statuses = await burst("race-hotp", generateHOTP(key, BigInt(counter), 6, "SHA1"));
			expect(statuses.filter((s) => s === 200), `round ${round}`).toHaveLength(1);
			expect(statuses.every((s) => s === 200 || s === 422 || s === 429)).toBe(true);
			expect(Number((await t.app.services.deps.store.factors.find(t.tenantId, "race-hotp", id))!.last_used_step)).toBe(counter);
			await t.call("POST", "/v1/users/race-hotp/unlock");
		}
	});

	it(`one recovery code, ${PARALLEL} at once: exactly one 200`, async () => {
		const { recoveryCodes } = await enrollActive(t, "race-rc");
		for (const code of recoveryCodes.slice(0, 3)) {
			const statuses = await burst("race-rc", code);
			expect(statuses.filter((s) => s === 200)).toHaveLength(1);
			await t.call("POST", "/v1/users/race-rc/unlock");
		}
		expect((await t.call("GET", "/v1/users/race-rc")).json.recovery_codes_remaining).toBe(7);
	});
});
