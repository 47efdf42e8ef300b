import { scryptSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, codeFor, DIALECTS, enrollActive, expectNotDecodable, nextStep, type TestApp } from "../helpers.js";

describe.each(DIALECTS)("recovery codes (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	it("a code works once, in any case and with or without hyphens; nothing else is forgiven (R-RC-3, R-RC-4)", async () => {
		const { recoveryCodes } = await enrollActive(t, "rc1");
		const [first, second] = recoveryCodes as [string, string];
		const used = await t.call("POST", "/v1/users/rc1/verify", { code: first.toUpperCase() });
		expect(used.status).toBe(200);
		expect(used.json).toEqual({ valid: true, method: "recovery_code", recovery_codes_remaining: 9, assertion: expect.any(String) });
		expect((await t.call("POST", "/v1/users/rc1/verify", { code: first })).json.error.code).toBe("invalid_code");
		expect((await t.call("POST", "/v1/users/rc1/verify", { code: ` ${second}` })).status).toBe(422);
		expect((await t.call("POST", "/v1/users/rc1/verify", { code: `${second.replace(/-/g, "")}` })).status).toBe(200);
		const events = await t.call("GET", "/v1/events?user_id=rc1&type=recovery_code.used");
		expect(events.json.events.map((e: any) => e.data.remaining)).toEqual([8, 9]);
	});

	it("50 parallel redemptions of one code: exactly one success (R-RC-3, V-3)", async () => {
		const { recoveryCodes } = await enrollActive(t, "rc-race");
		const answers = await Promise.all(Array.from({ length: 50 }, () => t.call("POST", "/v1/users/rc-race/verify", { code: recoveryCodes[0] })));
		expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
		expect(answers.filter((a) => a.status !== 200).every((a) => a.status === 422 || a.status === 429)).toBe(true);
		expect((await t.call("GET", "/v1/users/rc-race")).json.recovery_codes_remaining).toBe(9);
	});

	it("regenerating needs a current code; the old set stops working with the same commit (R-RC-5)", async () => {
		const { secret, recoveryCodes } = await enrollActive(t, "rc-regen");
		expect((await t.call("POST", "/v1/users/rc-regen/recovery-codes", {})).json.error.code).toBe("proof_required");
		expect((await t.call("POST", "/v1/users/rc-regen/recovery-codes", { code: "000000" })).status).toBe(422);
		nextStep(t.clock);
		const fresh = await t.call("POST", "/v1/users/rc-regen/recovery-codes", { code: codeFor(secret, t.clock()) });
		expect(fresh.status).toBe(201);
		expect(fresh.json.recovery_codes).toHaveLength(10);
		expect(fresh.json.recovery_codes.some((c: string) => recoveryCodes.includes(c))).toBe(false);
		for (const old of recoveryCodes.slice(0, 3)) expect((await t.call("POST", "/v1/users/rc-regen/verify", { code: old })).status).toBe(422);
		expect((await t.call("POST", "/v1/users/rc-regen/verify", { code: fresh.json.recovery_codes[0] })).status).toBe(200);
		const event = (await t.call("GET", "/v1/events?user_id=rc-regen&type=recovery_codes.regenerated")).json.events[0];
		expect(event.data).toEqual({ by: "user", count: 10 });
		expect(JSON.stringify(event)).not.toContain(fresh.json.recovery_codes[0]);
	});

	it("a recovery code is weaker than the TOTP factor that stays, so it cannot regenerate (R-RC-5, issue 12); admins need a reason and the admin scope (V-19)", async () => {
		const { recoveryCodes } = await enrollActive(t, "rc-admin");
		const weaker = await t.call("POST", "/v1/users/rc-admin/recovery-codes", { code: recoveryCodes[0] });
		expect([weaker.status, weaker.json.error.code]).toEqual([403, "insufficient_proof"]);
		// Refused before it was evaluated: the recovery code is not spent.
		expect((await t.call("POST", "/v1/users/rc-admin/verify", { code: recoveryCodes[0] })).status).toBe(200);
		const defaultKey = await t.app.services.apiKeys.create(t.tenantId, "default");
		const denied = await t.call("POST", "/v1/users/rc-admin/recovery-codes", { reason: "user lost codes" }, defaultKey.token);
		expect(denied.status).toBe(403);
		expect((await t.call("POST", "/v1/users/rc-admin/recovery-codes", { reason: " " })).json.error.code).toBe("proof_required");
		const admin = await t.call("POST", "/v1/users/rc-admin/recovery-codes", { reason: "user lost codes" });
		expect(admin.status).toBe(201);
		const event = (await t.call("GET", "/v1/events?user_id=rc-admin&type=recovery_codes.regenerated")).json.events[0];
		expect(event.data).toMatchObject({ by: "admin", reason: "user lost codes" });
	});

	it("no codes without an active factor; unknown users are 404", async () => {
		await t.call("POST", "/v1/users/rc-none/factors", { type: "totp" });
		expect((await t.call("POST", "/v1/users/rc-none/recovery-codes", { reason: "x" })).json.error.code).toBe("no_active_factor");
		expect((await t.call("POST", "/v1/users/rc-nobody/recovery-codes", { reason: "x" })).json.error.code).toBe("user_not_found");
	});

	it("stores only salted hashes (R-RC-2)", async () => {
		const { recoveryCodes } = await enrollActive(t, "rc-hash");
		const rows = await t.app.store.recoveryCodes.listUnused(t.tenantId, "rc-hash");
		expect(rows).toHaveLength(10);
		expect(new Set(rows.map((r) => r.salt)).size).toBe(10);
		const dump = JSON.stringify(rows);
		for (const code of recoveryCodes) {
			expect(dump).not.toContain(code);
			expect(dump).not.toContain(code.replace(/-/g, ""));
		}
		// The property, not a substring: each row is scrypt (ADR 0003: N=2^10, r=8, p=1, 32 bytes) of one
		// issued code under the row's own 128-bit salt, and no stored value decodes to a code.
		const normalized = recoveryCodes.map((code) => code.replace(/-/g, "").toLowerCase());
		const matched = new Set<string>();
		for (const row of rows) {
			const salt = Buffer.from(row.salt, "base64url");
			expect(salt.byteLength).toBe(16);
			const stored = Buffer.from(row.hash, "base64url");
			const owner = normalized.find((code) => scryptSync(code, salt, 32, { N: 1024, r: 8, p: 1 }).equals(stored));
			expect(owner, `row ${row.id} is not the scrypt hash of any issued code`).toBeDefined();
			matched.add(owner!);
			for (const value of Object.values(row)) if (typeof value === "string") expectNotDecodable(value, [...recoveryCodes, ...normalized]);
		}
		expect(matched.size).toBe(10);
	});
});
