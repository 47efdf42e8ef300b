import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_PENDING_FACTORS } from "../../src/services/factors.js";
import { buildTestApp, codeFor, DIALECTS, enrollActive, nextStep, type TestApp } from "../helpers.js";
import { SMTPSink } from "../smtp-sink.js";
import { FLAGS, SoftwareAuthenticator } from "../software-authenticator.js";

const ORIGIN = "http://localhost:5173";
const RP_ID = "localhost";

/**
 * Issue 12 findings 1, 2 and 8 (pending part): one strength order for every proof of a factor change
 * (docs/assertions.md#proof-strength; R-LC-1, R-LC-4, R-RC-5, R-EM-1), the binding rule re-checked at
 * confirm (R-LC-1), and pending factors capped and expiring.
 */

/** Levels as docs/assertions.md publishes them. */
const EMAIL = 0;
const RCODE = 1;
const OTP = 2;
const PHR = 3;

type Holding = "totp" | "passkey" | "totp+passkey";
type Operation = "add_totp" | "add_passkey" | "delete_totp" | "delete_passkey" | "regenerate";
type ProofKind = "totp_code" | "totp_assertion" | "passkey" | "passkey_assertion" | "recovery_code" | "recovery_assertion" | "email_code" | "email_assertion";

const PROOF_LEVEL: Record<ProofKind, number> = {
	totp_code: OTP,
	totp_assertion: OTP,
	passkey: PHR,
	passkey_assertion: PHR,
	recovery_code: RCODE,
	recovery_assertion: RCODE,
	email_code: EMAIL,
	email_assertion: EMAIL,
};

/**
 * What each change needs, with the tenant requiring user verification (a passkey holds the user at PHR):
 * adding: min(strongest held, new factor); removing and regenerating: the strongest factor that stays, never
 * below a recovery code.
 */
const REQUIRED: Record<Holding, Partial<Record<Operation, number>>> = {
	totp: { add_totp: OTP, add_passkey: OTP, delete_totp: RCODE, regenerate: OTP },
	passkey: { add_totp: OTP, add_passkey: PHR, delete_passkey: RCODE, regenerate: PHR },
	"totp+passkey": { add_totp: OTP, add_passkey: PHR, delete_totp: PHR, delete_passkey: OTP, regenerate: PHR },
};

const usable = (holding: Holding, proof: ProofKind): boolean =>
	(!proof.startsWith("totp") || holding.includes("totp")) && (!proof.startsWith("passkey") || holding.includes("passkey"));

const CASES = (Object.keys(REQUIRED) as Holding[]).flatMap((holding) =>
	(Object.keys(REQUIRED[holding]) as Operation[]).flatMap((operation) =>
		(Object.keys(PROOF_LEVEL) as ProofKind[])
			.filter((proof) => usable(holding, proof))
			.map((proof) => ({ holding, operation, proof, allowed: PROOF_LEVEL[proof] >= REQUIRED[holding][operation]! && PROOF_LEVEL[proof] > EMAIL })),
	),
);

describe.each(DIALECTS)("proof strength for factor changes (%s)", (dialect) => {
	let t: TestApp;
	let smtp: SMTPSink;
	let n = 0;

	beforeAll(async () => {
		smtp = new SMTPSink();
		await smtp.start();
		t = await buildTestApp({ dialect, env: { TWOFOLD_SMTP_URL: smtp.url, TWOFOLD_SMTP_FROM: "twofold@example.com" } });
		const patched = await t.call("PATCH", "/v1/tenant", { webauthn: { rp_id: RP_ID, rp_name: "Acme", origins: [ORIGIN] }, email: { enabled: true } });
		expect(patched.status, patched.body).toBe(200);
	});
	afterAll(async () => {
		await t.close();
		await smtp.stop();
	});

	interface Account {
		user: string;
		secret?: string;
		totpId?: string;
		passkeyId?: string;
		authenticator?: SoftwareAuthenticator;
		recoveryCodes: string[];
	}

	async function registerPasskey(user: string, proof: Record<string, unknown> = {}) {
		const authenticator = new SoftwareAuthenticator(RP_ID, ORIGIN);
		const enrolled = await t.call("POST", `/v1/users/${user}/factors`, { type: "webauthn", ...proof });
		expect(enrolled.status, enrolled.body).toBe(201);
		const confirmed = await t.call("POST", `/v1/users/${user}/factors/${enrolled.json.factor.id}/confirm`, { credential: authenticator.register(enrolled.json.webauthn.options) });
		expect(confirmed.status, confirmed.body).toBe(200);
		return { authenticator, factorId: enrolled.json.factor.id as string, recoveryCodes: (confirmed.json.recovery_codes ?? []) as string[] };
	}

	async function account(holding: Holding): Promise<Account> {
		const user = `ps-${holding.replace("+", "-")}-${++n}`;
		const acct: Account = { user, recoveryCodes: [] };
		if (holding.includes("totp")) {
			const { factorId, secret, recoveryCodes } = await enrollActive(t, user);
			Object.assign(acct, { totpId: factorId, secret, recoveryCodes });
		}
		if (holding.includes("passkey")) {
			nextStep(t.clock);
			const proof = acct.secret === undefined ? {} : { code: codeFor(acct.secret, t.clock()) };
			const { authenticator, factorId, recoveryCodes } = await registerPasskey(user, proof);
			Object.assign(acct, { authenticator, passkeyId: factorId });
			if (recoveryCodes.length > 0) acct.recoveryCodes = recoveryCodes;
		}
		return acct;
	}

	async function passkeyResponse(acct: Account, flags?: number) {
		const challenge = await t.call("POST", `/v1/users/${acct.user}/challenges`, { type: "webauthn" });
		expect(challenge.status, challenge.body).toBe(201);
		const credential = acct.authenticator!.assert(challenge.json.webauthn.options, flags === undefined ? {} : { flags });
		return { challenge_id: challenge.json.challenge.id as string, credential };
	}

	async function emailCode(acct: Account) {
		nextStep(t.clock); // the per-user send budget is per window; each case is a new user anyway
		const sent = await t.call("POST", `/v1/users/${acct.user}/challenges`, { type: "email", to: `${acct.user}@example.com` });
		expect(sent.status, sent.body).toBe(201);
		return { challenge_id: sent.json.challenge.id as string, code: smtp.codeFor(`${acct.user}@example.com`) };
	}

	async function assertionFrom(acct: Account, body: Record<string, unknown>, acr: string) {
		const verified = await t.call("POST", `/v1/users/${acct.user}/verify`, body);
		expect(verified.status, verified.body).toBe(200);
		const claims = JSON.parse(Buffer.from(verified.json.assertion.split(".")[1], "base64url").toString());
		expect(claims.acr).toBe(acr);
		return { assertion: verified.json.assertion as string };
	}

	async function proofBody(acct: Account, kind: ProofKind): Promise<Record<string, unknown>> {
		nextStep(t.clock);
		switch (kind) {
			case "totp_code":
				return { code: codeFor(acct.secret!, t.clock()) };
			case "totp_assertion": {
				const body = await assertionFrom(acct, { code: codeFor(acct.secret!, t.clock()) }, "urn:twofold:acr:otp");
				nextStep(t.clock);
				return body;
			}
			case "passkey":
				return passkeyResponse(acct);
			case "passkey_assertion":
				return assertionFrom(acct, await passkeyResponse(acct), "urn:twofold:acr:phr");
			case "recovery_code":
				return { code: acct.recoveryCodes[0] };
			case "recovery_assertion":
				return assertionFrom(acct, { code: acct.recoveryCodes[0] }, "urn:twofold:acr:rcode");
			case "email_code":
				return emailCode(acct);
			case "email_assertion":
				return assertionFrom(acct, await emailCode(acct), "urn:twofold:acr:email");
		}
	}

	async function perform(acct: Account, operation: Operation, proof: Record<string, unknown>) {
		switch (operation) {
			case "add_totp":
				return t.call("POST", `/v1/users/${acct.user}/factors`, { type: "totp", ...proof });
			case "add_passkey":
				return t.call("POST", `/v1/users/${acct.user}/factors`, { type: "webauthn", ...proof });
			case "delete_totp":
				return t.call("DELETE", `/v1/users/${acct.user}/factors/${acct.totpId}`, proof);
			case "delete_passkey":
				return t.call("DELETE", `/v1/users/${acct.user}/factors/${acct.passkeyId}`, proof);
			case "regenerate":
				return t.call("POST", `/v1/users/${acct.user}/recovery-codes`, proof);
		}
	}

	const SUCCESS: Record<Operation, number> = { add_totp: 201, add_passkey: 201, delete_totp: 204, delete_passkey: 204, regenerate: 201 };

	it.each(CASES)(
		"R-LC-1/R-LC-4/R-RC-5/R-EM-1: user with $holding, $operation with $proof: allowed=$allowed",
		async ({ holding, operation, proof, allowed }) => {
			const acct = await account(holding);
			const body = await proofBody(acct, proof);
			const factorsBefore = (await t.call("GET", `/v1/users/${acct.user}/factors`)).json.factors;
			const res = await perform(acct, operation, body);
			if (allowed) {
				expect(res.status, res.body).toBe(SUCCESS[operation]);
				return;
			}
			expect([res.status, res.json?.error?.code], res.body).toEqual([403, "insufficient_proof"]);
			// Nothing changed: same factors, and the recovery codes still work (none was spent or replaced).
			expect((await t.call("GET", `/v1/users/${acct.user}/factors`)).json.factors).toEqual(factorsBefore);
			if (proof !== "recovery_code" && proof !== "recovery_assertion") {
				expect((await t.call("POST", `/v1/users/${acct.user}/verify`, { code: acct.recoveryCodes[1] })).status).toBe(200);
			}
			const failed = (await t.call("GET", `/v1/events?user_id=${acct.user}&type=verification.failed`)).json.events[0];
			expect(failed.data).toMatchObject({ reason: "insufficient" });
		},
		30_000,
	);

	it("the issue's attack: an email assertion regenerates nothing, enrolls nothing and deletes nothing (R-EM-1, R-LC-4)", async () => {
		const acct = await account("totp");
		for (const operation of ["regenerate", "add_totp", "delete_totp"] as const) {
			const res = await perform(acct, operation, await proofBody(acct, "email_assertion"));
			expect([res.status, res.json.error.code]).toEqual([403, "insufficient_proof"]);
			expect(res.body).not.toContain("secret");
		}
		const factors = (await t.call("GET", `/v1/users/${acct.user}/factors`)).json.factors;
		expect(factors).toEqual([expect.objectContaining({ id: acct.totpId, status: "active" })]);
	});

	it("a proof from the factor being removed counts, but only for what stays (R-LC-4): the passkey removes the TOTP, and the TOTP removes a lost passkey", async () => {
		const acct = await account("totp+passkey");
		const withTotp = await perform(acct, "delete_totp", await proofBody(acct, "totp_code"));
		expect(withTotp.json.error.code).toBe("insufficient_proof");
		expect((await perform(acct, "delete_passkey", await proofBody(acct, "totp_code"))).status).toBe(204);
		// Now only the TOTP stays: the recovery code may not regenerate, a TOTP code may.
		expect((await perform(acct, "regenerate", await proofBody(acct, "recovery_code"))).json.error.code).toBe("insufficient_proof");
		expect((await perform(acct, "regenerate", await proofBody(acct, "totp_code"))).status).toBe(201);
	});

	it("WebAuthn without user verification ranks at the OTP level (R-WA-5): its assertion does not stand in for a passkey with UV", async () => {
		const acct = await account("passkey");
		// Made while the tenant only preferred UV: acr phr (phishing-resistant), amr without "user".
		expect((await t.call("PATCH", "/v1/tenant", { webauthn: { user_verification: "preferred" } })).status).toBe(200);
		const noUV = await t.call("POST", `/v1/users/${acct.user}/verify`, await passkeyResponse(acct, FLAGS.UP));
		expect(noUV.status, noUV.body).toBe(200);
		const claims = JSON.parse(Buffer.from(noUV.json.assertion.split(".")[1], "base64url").toString());
		expect(claims.amr).not.toContain("user");
		// While UV is only preferred, the passkey holds the user at the OTP level, so the non-UV key suffices:
		// a user whose key cannot verify them can still add a backup key.
		const preferredAdd = await perform(acct, "add_passkey", await passkeyResponse(acct, FLAGS.UP));
		expect(preferredAdd.status, preferredAdd.body).toBe(201);
		expect((await t.call("PATCH", "/v1/tenant", { webauthn: { user_verification: "required" } })).status).toBe(200);
		// Now the passkey holds the user at PHR: the non-UV assertion is not enough to regenerate, a UV one is.
		expect((await perform(acct, "regenerate", { assertion: noUV.json.assertion })).json.error.code).toBe("insufficient_proof");
		expect((await perform(acct, "regenerate", await proofBody(acct, "passkey_assertion"))).status).toBe(201);
	});
});

describe.each(DIALECTS)("pending factors: binding re-checked at confirm, capped, expiring (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
		expect((await t.call("PATCH", "/v1/tenant", { webauthn: { rp_id: RP_ID, rp_name: "Acme", origins: [ORIGIN] } })).status).toBe(200);
	});
	afterAll(() => t.close());

	const enroll = (user: string, body: Record<string, unknown> = {}) => t.call("POST", `/v1/users/${user}/factors`, { type: "totp", ...body });
	const confirm = (user: string, id: string, secret: string) => t.call("POST", `/v1/users/${user}/factors/${id}/confirm`, { code: codeFor(secret, t.clock()) });

	it("R-LC-1: a factor left pending before the user's first activation is void once the user activates their own", async () => {
		const planted = await enroll("pb-1");
		expect(planted.status).toBe(201);
		t.clock.advance(1000);
		const own = await enrollActive(t, "pb-1");
		nextStep(t.clock);
		const late = await confirm("pb-1", planted.json.factor.id, planted.json.totp.secret);
		expect([late.status, late.json.error?.code], late.body).toEqual([404, "factor_not_found"]);
		expect(late.body).not.toContain("assertion");
		const factors = (await t.call("GET", "/v1/users/pb-1/factors")).json.factors;
		expect(factors).toEqual([expect.objectContaining({ id: own.factorId, status: "active" })]);
		const voided = (await t.call("GET", "/v1/events?user_id=pb-1&type=factor.deleted")).json.events;
		expect(voided).toEqual([expect.objectContaining({ factor_id: planted.json.factor.id, data: { by: "system", was: "pending", reason: "superseded" } })]);
	});

	it("R-LC-1: the same for a WebAuthn factor planted before the first activation: its registration is refused later", async () => {
		const planted = await t.call("POST", "/v1/users/pb-4/factors", { type: "webauthn" });
		expect(planted.status).toBe(201);
		t.clock.advance(1000);
		await enrollActive(t, "pb-4");
		const late = await t.call("POST", `/v1/users/pb-4/factors/${planted.json.factor.id}/confirm`, {
			credential: new SoftwareAuthenticator(RP_ID, ORIGIN).register(planted.json.webauthn.options),
		});
		expect([late.status, late.json.error?.code], late.body).toEqual([404, "factor_not_found"]);
		const rows = await t.app.store.factors.listForUser(t.tenantId, "pb-4");
		expect(rows.filter((row) => row.type === "webauthn")).toEqual([]);
	});

	it("R-LC-1: a pending factor that slipped past the voiding (created before the activation, committed after) is refused at confirm", async () => {
		const planted = await enroll("pb-2");
		const row = await t.app.store.factors.find(t.tenantId, "pb-2", planted.json.factor.id);
		t.clock.advance(1000);
		const own = await enrollActive(t, "pb-2");
		// The race on PostgreSQL the user-row lock closes, replayed by hand: the row comes back as it was.
		await t.app.store.factors.insert(row!);
		nextStep(t.clock);
		const late = await confirm("pb-2", planted.json.factor.id, planted.json.totp.secret);
		expect([late.status, late.json.error?.code], late.body).toEqual([410, "factor_expired"]);
		// It cannot be retried either, and the user's own factor is untouched.
		nextStep(t.clock);
		expect((await confirm("pb-2", planted.json.factor.id, planted.json.totp.secret)).status).toBe(404);
		nextStep(t.clock);
		expect((await t.call("POST", "/v1/users/pb-2/verify", { code: codeFor(own.secret, t.clock()) })).status).toBe(200);
	});

	it("R-LC-1 race: enrolls without a proof racing the first activation leave nothing confirmable (the user-row lock)", async () => {
		const own = await enroll("pb-race");
		const racing = await Promise.all([
			confirm("pb-race", own.json.factor.id, own.json.totp.secret),
			...Array.from({ length: 12 }, () => enroll("pb-race")),
		]);
		expect(racing[0]!.status, racing[0]!.body).toBe(200);
		const planted = racing.slice(1).filter((res) => res.status === 201);
		for (const res of racing.slice(1)) expect([201, 400, 409]).toContain(res.status);
		nextStep(t.clock);
		for (const res of planted) {
			const late = await confirm("pb-race", res.json.factor.id, res.json.totp.secret);
			expect([404, 410], late.body).toContain(late.status);
		}
		const factors = (await t.call("GET", "/v1/users/pb-race/factors")).json.factors;
		expect(factors).toEqual([expect.objectContaining({ id: own.json.factor.id, status: "active" })]);
	});

	it("a pending factor enrolled after the first activation, with a proof, is still confirmable (no false refusal)", async () => {
		const own = await enrollActive(t, "pb-3");
		nextStep(t.clock);
		const second = await enroll("pb-3", { code: codeFor(own.secret, t.clock()) });
		expect(second.status, second.body).toBe(201);
		nextStep(t.clock);
		expect((await confirm("pb-3", second.json.factor.id, second.json.totp.secret)).status).toBe(200);
	});

	it(`caps pending factors at ${MAX_PENDING_FACTORS} per user; a refused enroll spends no proof`, async () => {
		for (let i = 0; i < MAX_PENDING_FACTORS; i++) expect((await enroll("pc-1")).status).toBe(201);
		const sixth = await enroll("pc-1");
		expect([sixth.status, sixth.json.error.code]).toEqual([409, "too_many_pending_factors"]);
		expect(sixth.json.error.message).toContain(String(MAX_PENDING_FACTORS));
		expect((await t.call("GET", "/v1/users/pc-1/factors")).json.factors).toHaveLength(MAX_PENDING_FACTORS);
		// Deleting a pending factor (no proof needed) makes room.
		const first = (await t.call("GET", "/v1/users/pc-1/factors")).json.factors[0].id;
		expect((await t.call("DELETE", `/v1/users/pc-1/factors/${first}`, {})).status).toBe(204);
		expect((await enroll("pc-1")).status).toBe(201);

		// With 2FA on: the cap is checked before the proof, so the code is not consumed by the refusal.
		const own = await enrollActive(t, "pc-2");
		for (let i = 0; i < MAX_PENDING_FACTORS; i++) {
			nextStep(t.clock);
			expect((await enroll("pc-2", { code: codeFor(own.secret, t.clock()) })).status).toBe(201);
		}
		nextStep(t.clock);
		const code = codeFor(own.secret, t.clock());
		expect((await enroll("pc-2", { code })).json.error.code).toBe("too_many_pending_factors");
		expect((await t.call("POST", "/v1/users/pc-2/verify", { code })).status).toBe(200);
	});

	it("expired pending factors are not listed, not confirmable, not verify candidates, and are discarded by the next enroll", async () => {
		const ttl = (await t.call("GET", "/v1/tenant")).json.settings.pending_factor_ttl_seconds as number;
		const own = await enrollActive(t, "pe-1");
		const pending: { id: string; secret: string }[] = [];
		for (let i = 0; i < MAX_PENDING_FACTORS; i++) {
			nextStep(t.clock);
			const res = await enroll("pe-1", { code: codeFor(own.secret, t.clock()) });
			pending.push({ id: res.json.factor.id, secret: res.json.totp.secret });
		}
		t.clock.advance(ttl * 1000 + 1000);
		expect((await t.call("GET", "/v1/users/pe-1/factors")).json.factors.map((f: { id: string }) => f.id)).toEqual([own.factorId]);
		nextStep(t.clock);
		expect((await confirm("pe-1", pending[0]!.id, pending[0]!.secret)).json.error.code).toBe("factor_expired");
		expect((await t.call("POST", "/v1/users/pe-1/verify", { code: codeFor(pending[1]!.secret, t.clock()) })).json.error.code).toBe("invalid_code");
		nextStep(t.clock);
		const fresh = await enroll("pe-1", { code: codeFor(own.secret, t.clock()) });
		expect(fresh.status, fresh.body).toBe(201);
		const rows = await t.app.store.factors.listForUser(t.tenantId, "pe-1");
		expect(rows.map((row) => row.id).sort()).toEqual([own.factorId, fresh.json.factor.id].sort());
		const discarded = (await t.call("GET", "/v1/events?user_id=pe-1&type=factor.deleted&limit=100")).json.events;
		expect(discarded.filter((e: { data: { reason?: string } }) => e.data.reason === "expired")).toHaveLength(MAX_PENDING_FACTORS);
	});
});
