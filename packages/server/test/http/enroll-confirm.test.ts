import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBase32 } from "../../src/core/base32.js";
import { EnvelopeError } from "../../src/core/envelope.js";
import { createKeyring } from "../../src/core/keyring.js";
import { openFactorSecret } from "../../src/factors/factor-secret.js";
import { buildTestApp, codeFor, DIALECTS, enrollActive, expectNotDecodable, nextStep, type TestApp } from "../helpers.js";

describe.each(DIALECTS)("enroll and confirm (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	it("enrolls a pending TOTP factor with a locally rendered QR code", async () => {
		const res = await t.call("POST", "/v1/users/u-enroll/factors", { type: "totp" });
		expect(res.status).toBe(201);
		expect(res.headers["cache-control"]).toBe("no-store");
		expect(res.json.factor).toMatchObject({ type: "totp", status: "pending", label: "u-enroll" });
		expect(res.json.factor.id).toMatch(/^fac_[0-9a-z]{26}$/);
		const { secret, uri, qr_png, qr_svg } = res.json.totp;
		// R-OTP-4: a generated SHA1 seed is 20 bytes = 32 base32 characters.
		expect(secret).toMatch(/^[A-Z2-7]{32}$/);
		expect(uri).toBe(`otpauth://totp/acme:u-enroll?secret=${secret}&issuer=acme&algorithm=SHA1&digits=6&period=30`);
		// V-13: the QR is a data URI made in-process, never a third-party image URL.
		expect(qr_png).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
		expect(qr_svg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
		expect(uri + qr_png).not.toMatch(/https?:/);
		// The SVG names its XML namespace and nothing else: no links, no external images.
		expect(qr_svg.replaceAll('xmlns="http://www.w3.org/2000/svg"', "")).not.toMatch(/https?:|href/);
	});

	it("generates 32- and 64-byte seeds for SHA256 and SHA512 (R-OTP-4)", async () => {
		const sha256 = await t.call("POST", "/v1/users/u-seeds/factors", { type: "totp", algorithm: "SHA256" });
		const sha512 = await t.call("POST", "/v1/users/u-seeds/factors", { type: "totp", algorithm: "SHA512", digits: 8, period: 60 });
		expect(sha256.json.totp.secret).toHaveLength(Math.ceil((32 * 8) / 5));
		expect(sha512.json.totp.secret).toHaveLength(Math.ceil((64 * 8) / 5));
		expect(sha512.json.totp.uri).toContain("algorithm=SHA512&digits=8&period=60");
	});

	it("rejects imported secrets that are short, empty or not base32 (R-OTP-4, V-16)", async () => {
		for (const secret of ["GEZDGNBVGY3TQOJQGEZDGNBV", "MZXW6YTBOI", "not base32!", "GEZDGNBV GY3TQOJQ GEZDGNBV GY3TQOJQ"]) {
			const res = await t.call("POST", "/v1/users/u-import/factors", { type: "totp", secret });
			expect(res.status, secret).toBe(400);
			expect(res.json.error.code).toBe(secret === "" ? "invalid_request" : "invalid_secret");
		}
		expect((await t.call("POST", "/v1/users/u-import/factors", { type: "totp", secret: "" })).json.error.code).toBe("invalid_request");
		const ok = await t.call("POST", "/v1/users/u-import/factors", { type: "totp", secret: "gezdgnbvgy3tqojqgezdgnbvgy3tqojq" });
		expect(ok.status).toBe(201);
		expect(ok.json.totp.secret).toBe("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	});

	it("validates the body and the user id", async () => {
		expect((await t.call("POST", "/v1/users/u1/factors", { type: "sms" })).json.error.code).toBe("invalid_request");
		expect((await t.call("POST", "/v1/users/u1/factors", { type: "totp", digits: 9 })).status).toBe(400);
		expect((await t.call("POST", "/v1/users/u1/factors", { type: "totp", period: 10 })).status).toBe(400);
		expect((await t.call("POST", "/v1/users/u1/factors", { type: "totp", label: "a:b" })).status).toBe(400);
		expect((await t.call("POST", "/v1/users/u1/factors", { type: "totp", extra: 1 })).status).toBe(400);
		expect((await t.call("POST", `/v1/users/${"x".repeat(129)}/factors`, { type: "totp" })).status).toBe(400);
		expect((await t.call("POST", `/v1/users/${"x".repeat(128)}/factors`, { type: "totp" })).status).toBe(201);
		expect((await t.call("POST", "/v1/users/%C3%A9/factors", { type: "totp" })).status).toBe(400);
	});

	it("confirms with a current code, consuming its step (V-1: the setup code is not a login code)", async () => {
		const enrolled = await t.call("POST", "/v1/users/u-confirm/factors", { type: "totp" });
		const { id } = enrolled.json.factor;
		const code = codeFor(enrolled.json.totp.secret, t.clock());
		const confirmed = await t.call("POST", `/v1/users/u-confirm/factors/${id}/confirm`, { code });
		expect(confirmed.status).toBe(200);
		expect(confirmed.json.factor.status).toBe("active");
		expect(confirmed.json.recovery_codes).toHaveLength(10);
		const again = await t.call("POST", "/v1/users/u-confirm/verify", { code });
		expect(again.status).toBe(422);
		expect(again.json.error.code).toBe("invalid_code");
		expect((await t.call("POST", `/v1/users/u-confirm/factors/${id}/confirm`, { code })).json.error.code).toBe("factor_not_pending");
	});

	it("never returns the secret or URI after enrollment (R-LC-7)", async () => {
		const { secret } = await enrollActive(t, "u-secret");
		for (const url of ["/v1/users/u-secret/factors", "/v1/users/u-secret", "/v1/events?user_id=u-secret"]) {
			const res = await t.call("GET", url);
			expect(res.status).toBe(200);
			expect(res.body).not.toContain(secret);
			expect(res.body).not.toContain("otpauth");
		}
	});

	it("a wrong confirm code fails and counts; the factor stays pending", async () => {
		const enrolled = await t.call("POST", "/v1/users/u-wrong/factors", { type: "totp" });
		const { id } = enrolled.json.factor;
		const wrong = (Number(codeFor(enrolled.json.totp.secret, t.clock())) + 1) % 1_000_000;
		const res = await t.call("POST", `/v1/users/u-wrong/factors/${id}/confirm`, { code: String(wrong).padStart(6, "0") });
		expect(res.json.error.code).toBe("invalid_code");
		const events = await t.call("GET", "/v1/events?user_id=u-wrong&type=verification.failed");
		expect(events.json.events[0].data).toMatchObject({ purpose: "confirm", failed_attempts: 1 });
		expect((await t.call("GET", "/v1/users/u-wrong/factors")).json.factors[0].status).toBe("pending");
	});

	it("a pending factor's code does not verify: a wrong code in the audit trail, not a replay, and the confirm still takes it", async () => {
		nextStep(t.clock);
		const enrolled = await t.call("POST", "/v1/users/u-pending-verify/factors", { type: "totp" });
		const code = codeFor(enrolled.json.totp.secret, t.clock());
		const res = await t.call("POST", "/v1/users/u-pending-verify/verify", { code });
		expect(res.status).toBe(422);
		expect(res.json.error.code).toBe("invalid_code");
		const failed = await t.call("GET", "/v1/events?user_id=u-pending-verify&type=verification.failed");
		expect(failed.json.events.map((event: { data: { reason: string } }) => event.data.reason)).toEqual(["invalid"]);
		expect((await t.call("GET", "/v1/events?user_id=u-pending-verify&type=verification.replay_rejected")).json.events).toEqual([]);
		const confirmed = await t.call("POST", `/v1/users/u-pending-verify/factors/${enrolled.json.factor.id}/confirm`, { code });
		expect(confirmed.status, confirmed.body).toBe(200);
	});

	it("a confirm is decided by the code of that pending factor only: another pending factor's code activates neither", async () => {
		nextStep(t.clock);
		const first = await t.call("POST", "/v1/users/u-two-pending/factors", { type: "totp" });
		const second = await t.call("POST", "/v1/users/u-two-pending/factors", { type: "totp" });
		const res = await t.call("POST", `/v1/users/u-two-pending/factors/${first.json.factor.id}/confirm`, { code: codeFor(second.json.totp.secret, t.clock()) });
		expect(res.status).toBe(422);
		expect(res.json.error.code).toBe("invalid_code");
		const failed = await t.call("GET", "/v1/events?user_id=u-two-pending&type=verification.failed");
		expect(failed.json.events.map((event: { data: { reason: string } }) => event.data.reason)).toEqual(["invalid"]);
		const listed = (await t.call("GET", "/v1/users/u-two-pending/factors")).json.factors as { id: string; status: string }[];
		expect(listed.map((factor) => factor.status)).toEqual(["pending", "pending"]);
		// The second factor's code is still unspent: it confirms the second factor.
		const own = await t.call("POST", `/v1/users/u-two-pending/factors/${second.json.factor.id}/confirm`, { code: codeFor(second.json.totp.secret, t.clock()) });
		expect(own.status, own.body).toBe(200);
	});

	it("pending factors expire (default 15 minutes)", async () => {
		const enrolled = await t.call("POST", "/v1/users/u-expire/factors", { type: "totp" });
		t.clock.advance(15 * 60 * 1000 + 1);
		const res = await t.call("POST", `/v1/users/u-expire/factors/${enrolled.json.factor.id}/confirm`, {
			code: codeFor(enrolled.json.totp.secret, t.clock()),
		});
		expect(res.status).toBe(410);
		expect(res.json.error.code).toBe("factor_expired");
	});

	it("issues recovery codes with the first factor only; a second factor keeps the first working until removed (R-LC-7)", async () => {
		const first = await enrollActive(t, "u-two");
		expect(first.recoveryCodes).toHaveLength(10);
		nextStep(t.clock);
		// R-LC-1: the second factor is bound with a proof from the first.
		expect((await t.call("POST", "/v1/users/u-two/factors", { type: "totp" })).json.error.code).toBe("proof_required");
		const second = await enrollActive(t, "u-two", { code: codeFor(first.secret, t.clock()) });
		expect(second.recoveryCodes).toHaveLength(0);
		nextStep(t.clock);
		expect((await t.call("POST", "/v1/users/u-two/verify", { code: codeFor(first.secret, t.clock()) })).status).toBe(200);
		expect((await t.call("GET", "/v1/users/u-two")).json).toMatchObject({ recovery_codes_remaining: 10, locked: false });
	});

	it("unknown factor ids are 404", async () => {
		await enrollActive(t, "u-404");
		const res = await t.call("POST", "/v1/users/u-404/factors/fac_00000000000000000000000000/confirm", { code: "123456" });
		expect(res.status).toBe(404);
		expect(res.json.error.code).toBe("factor_not_found");
	});

	it("the TOTP seed is sealed at rest: nothing stored decodes to it, and it opens only with the master key (R-ST-1, R-ST-2)", async () => {
		const { factorId, secret } = await enrollActive(t, "sealed-seed");
		const seed = decodeBase32(secret)!;
		const row = (await t.app.store.factors.find(t.tenantId, "sealed-seed", factorId))!;
		expect(row.secret_envelope).not.toBeNull();
		for (const value of Object.values(row)) if (typeof value === "string") expectNotDecodable(value, [secret, seed]);
		const keyring = t.app.services.deps.keyring;
		expect(Buffer.from(openFactorSecret(keyring, row, row.secret_envelope!)).equals(Buffer.from(seed))).toBe(true);
		expect(() => openFactorSecret(createKeyring([randomBytes(32)]), row, row.secret_envelope!)).toThrow(EnvelopeError);
		const sameIdWrongKey = { ...keyring, keys: new Map([[keyring.activeKeyId, new Uint8Array(randomBytes(32))]]) };
		expect(() => openFactorSecret(sameIdWrongKey, row, row.secret_envelope!)).toThrow(/failed authentication/);
		// Bound to its row: another factor's id does not open it (R-ST-2).
		expect(() => openFactorSecret(keyring, { ...row, id: "fac_other" }, row.secret_envelope!)).toThrow(EnvelopeError);
	});
});
