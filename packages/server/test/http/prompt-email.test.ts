import type { AddressInfo } from "node:net";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMAIL_SENDS_PER_USER } from "../../src/services/email-codes.js";
import { tenantContext } from "../../src/services/tenant-context.js";
import { buildTestApp, codeFor, DIALECTS, enrollActive, type TestApp } from "../helpers.js";
import { Browser, csrfOf, form } from "../prompt-browser.js";
import { SMTPSink } from "../smtp-sink.js";

const REDIRECT = "http://127.0.0.1:9/callback";

/**
 * Email codes on the hosted prompt (issue 15, R-EM-1…5): offered only when the tenant has email codes on, keeps
 * addresses, mail is configured and an address is on record; sent through the same service as the API (its limits and
 * lock), to a real SMTP sink on loopback, through the real pages over real HTTP, and finished with an id_token from
 * openid-client. The address is shown masked only; the challenge is the session's, not the form's.
 */
describe.each(DIALECTS)("hosted prompt: a code by email (%s)", (dialect) => {
	let t: TestApp;
	let smtp: SMTPSink;
	let base: string;
	let issuer: string;
	let config: client.Configuration;
	let secrets: Record<string, string> = {};

	/** PAR through openid-client, then the browser to the interaction's first page. */
	async function start(user: string, extra: Record<string, string> = {}) {
		const verifier = client.randomPKCECodeVerifier();
		const state = client.randomState();
		const nonce = client.randomNonce();
		const url = await client.buildAuthorizationUrlWithPAR(config, {
			redirect_uri: REDIRECT,
			scope: "openid",
			code_challenge: await client.calculatePKCECodeChallenge(verifier),
			code_challenge_method: "S256",
			nonce,
			state,
			login_hint: user,
			...extra,
		});
		const browser = new Browser(base);
		const authorize = await browser.fetch(url.href);
		expect(authorize.status, await authorize.clone().text()).toBe(303);
		const page = authorize.headers.get("location")!;
		const first = await browser.fetch(page);
		const html = await first.text();
		expect(first.status, html).toBe(200);
		return { browser, page, html, csrf: csrfOf(html), verifier, state, nonce };
	}
	type Flow = Awaited<ReturnType<typeof start>>;

	/** POST {page}/email; on success the page redirects to itself (303) and the GET shows the code field. */
	async function sendEmail(flow: Flow): Promise<{ status: number; html: string }> {
		const posted = await flow.browser.fetch(`${flow.page}/email`, form({ csrf: flow.csrf }));
		if (posted.status !== 303) return { status: posted.status, html: await posted.text() };
		expect(posted.headers.get("location")).toBe(flow.page);
		const shown = await flow.browser.fetch(flow.page);
		return { status: shown.status, html: await shown.text() };
	}

	/** The code form's post, then (on success) the provider's redirects to the callback and the code exchange. */
	async function submit(flow: Flow, fields: Record<string, string>) {
		const posted = await flow.browser.fetch(`${flow.page}/verify`, form({ csrf: flow.csrf, ...fields }));
		if (posted.status !== 303) return { status: posted.status, html: await posted.text(), claims: undefined };
		const resume = await flow.browser.fetch(posted.headers.get("location")!);
		expect(resume.status, await resume.clone().text()).toBe(303);
		const callback = new URL(resume.headers.get("location")!);
		const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state, idTokenExpected: true });
		return { status: 303, html: "", claims: tokens.claims()!, tokens };
	}

	const mailsTo = (address: string) => smtp.mails.filter((mail) => mail.to.includes(address)).length;
	const sentEvents = async (user: string) => (await t.call("GET", `/v1/events?user_id=${user}&type=email_code.sent`)).json.events as Array<{ data: { challenge_id: string } }>;

	beforeAll(async () => {
		smtp = new SMTPSink();
		await smtp.start();
		t = await buildTestApp({ dialect, env: { TWOFOLD_SMTP_URL: smtp.url, TWOFOLD_SMTP_FROM: "twofold@example.com" } });
		await t.http.listen({ port: 0, host: "127.0.0.1" });
		base = `http://127.0.0.1:${(t.http.server.address() as AddressInfo).port}`;
		t.app.listeningAt(base);
		issuer = `${base}/t/${t.tenantId}`;
		const created = await t.call("POST", "/v1/clients", { name: "Shop", redirect_uris: [REDIRECT] });
		expect(created.status, created.body).toBe(201);
		config = await client.discovery(new URL(issuer), created.json.client.client_id, undefined, client.ClientSecretBasic(created.json.client_secret), { execute: [client.allowInsecureRequests] });
		const patched = await t.call("PATCH", "/v1/tenant", { email: { enabled: true, store_address: true } });
		expect(patched.status, patched.body).toBe(200);
		secrets = {};
		for (const user of ["alice", "bob", "carol", "dave", "erin", "frank"]) secrets[user] = (await enrollActive(t, user)).secret;
		// Alice's address is stored the way the API stores it (a code sent with `to` while store_address is on);
		// the others' directly, so their send budget is untouched.
		expect((await t.call("POST", "/v1/users/alice/challenges", { type: "email", to: "alice@example.com" })).status).toBe(201);
		await t.app.store.users.ensure(t.tenantId, "gina", t.clock().getTime());
		await t.app.store.users.setEmail(t.tenantId, "gina", "gina.private@example.org");
		for (const user of ["bob", "carol", "dave", "frank"]) await t.app.store.users.setEmail(t.tenantId, user, `${user}.private@example.org`);
	});
	afterAll(async () => {
		await t?.close();
		await smtp?.stop();
	});

	it("sends a code to the address on record, shown masked, and the code finishes the sign-in with acr email (R-EM-1)", async () => {
		const flow = await start("alice");
		expect(flow.html).toContain("Send a code by email to a***@example.com");
		expect(flow.html).not.toContain("alice@example.com");
		expect(flow.html).not.toContain('id="email-code"');
		const before = mailsTo("alice@example.com");
		const shown = await sendEmail(flow);
		expect(shown.status, shown.html).toBe(200);
		expect(mailsTo("alice@example.com")).toBe(before + 1);
		expect(shown.html).toContain("We sent a 6-digit code to a***@example.com");
		expect(shown.html).toMatch(/<input[^>]*id="email-code"[^>]*name="email_code"[^>]*autocomplete="one-time-code"[^>]*inputmode="numeric"/);
		expect(shown.html).not.toContain("alice@example.com");
		// The challenge stays with the session: the page carries no id the user could swap.
		const [sent] = await sentEvents("alice");
		expect(shown.html).not.toContain(sent!.data.challenge_id);

		const code = smtp.codeFor("alice@example.com");
		const done = await submit(flow, { email_code: code });
		expect(done.status, done.html).toBe(303);
		expect(done.claims).toMatchObject({ iss: issuer, sub: "alice", acr: "urn:twofold:acr:email", amr: ["email"], tid: t.tenantId });
		const assertion = (done.tokens as unknown as { twofold_assertion?: string }).twofold_assertion;
		expect(typeof assertion).toBe("string");

		// Single use (R-EM-2): the same code for the same challenge is refused afterwards, through the API too.
		const again = await t.call("POST", "/v1/users/alice/verify", { challenge_id: sent!.data.challenge_id, code });
		expect(again.json.error.code).toBe("invalid_code");
	});

	it("attack: the code is single use on the prompt as well; a second interaction cannot spend it (R-EM-2)", async () => {
		const first = await start("alice");
		expect((await sendEmail(first)).status).toBe(200);
		const code = smtp.codeFor("alice@example.com");
		const second = await start("alice");
		// The second session sent nothing: it has no challenge, so an email code is nothing to it.
		const foreign = await submit(second, { email_code: code });
		expect(foreign.status).toBe(409);
		expect(foreign.html).toContain("Codes by email cannot be used here");
		expect((await submit(first, { email_code: code })).status).toBe(303);
		// Typed again on the first interaction's page (the browser's back button): its session is gone with it.
		const replay = await first.browser.fetch(`${first.page}/verify`, form({ csrf: first.csrf, email_code: code }));
		expect(replay.status).toBe(403);
	});

	it("attack: the resend limit of the service applies, with a page saying to wait, and only the newest code works (R-EM-3, R-EM-5)", async () => {
		const flow = await start("bob");
		const codes: string[] = [];
		for (let i = 0; i < EMAIL_SENDS_PER_USER; i++) {
			const shown = await sendEmail(flow);
			expect(shown.status, shown.html).toBe(200);
			codes.push(smtp.codeFor("bob.private@example.org"));
		}
		expect(mailsTo("bob.private@example.org")).toBe(EMAIL_SENDS_PER_USER);
		const limited = await sendEmail(flow);
		expect(limited.status).toBe(429);
		expect(limited.html).toContain("Too many codes sent. Wait 10 minutes");
		expect(mailsTo("bob.private@example.org")).toBe(EMAIL_SENDS_PER_USER);
		// The field stays for the last code sent; an older code is refused as such, and counts as an attempt.
		expect(limited.html).toContain('id="email-code"');
		const newest = codes.at(-1)!;
		const older = codes.find((code) => code !== newest);
		if (older !== undefined) {
			const refused = await submit(flow, { email_code: older });
			expect(refused.status).toBe(422);
			expect(refused.html).toContain("replaced by a newer one");
		}
		const empty = await submit(flow, { email_code: " " });
		expect(empty.status).toBe(400);
		expect(empty.html).toContain("Enter the 6-digit code from the email");
		const done = await submit(flow, { email_code: newest });
		expect(done.claims).toMatchObject({ sub: "bob", acr: "urn:twofold:acr:email" });
	});

	it("attack: a locked user gets the lock page and no mail (R-EM-5)", async () => {
		expect((await t.call("PATCH", "/v1/tenant", { attempts: { lock_after: 3 } })).status).toBe(200);
		try {
			for (let i = 0; i < 3; i++) await t.call("POST", "/v1/users/carol/verify", { code: codeFor(secrets.carol!, t.clock()) === "000000" ? "111111" : "000000" });
			const flow = await start("carol");
			const before = smtp.mails.length;
			const refused = await sendEmail(flow);
			expect(refused.status).toBe(423);
			expect(refused.html).toContain("your account is locked");
			expect(smtp.mails).toHaveLength(before);
			expect(await sentEvents("carol")).toHaveLength(0);
		} finally {
			expect((await t.call("PATCH", "/v1/tenant", { attempts: { lock_after: 100 } })).status).toBe(200);
		}
	});

	it("attack: a code from a challenge this session did not send (the API's, a posted challenge_id) finishes nothing here", async () => {
		const flow = await start("dave");
		expect((await sendEmail(flow)).status).toBe(200);
		const [ours] = await sentEvents("dave");
		// The application sends another code for dave through the API: the newest, so the prompt's is revoked (R-EM-3).
		const api = await t.call("POST", "/v1/users/dave/challenges", { type: "email", to: "dave.private@example.org" });
		expect(api.status).toBe(201);
		const apiCode = smtp.codeFor("dave.private@example.org");
		// Posting the API challenge's id beside its code changes nothing: the id is read from the session only.
		const swapped = await submit(flow, { email_code: apiCode, challenge_id: api.json.challenge.id });
		expect(swapped.status).toBe(422);
		expect(ours!.data.challenge_id).not.toBe(api.json.challenge.id);
		// The API's code is still unspent and works where it was meant to.
		expect((await t.call("POST", "/v1/users/dave/verify", { challenge_id: api.json.challenge.id, code: apiCode })).json).toMatchObject({ valid: true, method: "email" });
	});

	it("is not offered without an address on record, for manage or enroll, when acr_values exclude email, or when the tenant turns email off", async () => {
		const noAddress = await start("erin");
		expect(noAddress.html).not.toContain("Send a code by email");
		const before = smtp.mails.length;
		expect((await sendEmail(noAddress)).status).toBe(409);

		// A user without an active factor meets the no-factor policy (enroll here): no email offer, and a crafted send
		// goes back to that page without a mail.
		const noFactor = await start("gina");
		expect(noFactor.html).toContain('id="enroll-form"');
		expect(noFactor.html).not.toContain("Send a code by email");
		const crafted = await noFactor.browser.fetch(`${noFactor.page}/email`, form({ csrf: noFactor.csrf }));
		expect(crafted.status).toBe(303);
		expect(crafted.headers.get("location")).toBe(noFactor.page);
		const forged = await noFactor.browser.fetch(`${noFactor.page}/verify`, form({ csrf: noFactor.csrf, email_code: "123456" }));
		expect(forged.status).toBe(409);
		expect(smtp.mails).toHaveLength(before);

		// Email proves nothing for a factor change (R-EM-1): the reauth page of manage offers no email, and refuses a send.
		const manage = await start("alice", { intent: "manage" });
		expect(manage.html).not.toContain("Send a code by email");
		expect((await sendEmail(manage)).status).toBe(409);

		const strong = await start("alice", { acr_values: "urn:twofold:acr:otp" });
		expect(strong.html).not.toContain("Send a code by email");
		const asked = await start("alice", { acr_values: "urn:twofold:acr:otp urn:twofold:acr:email" });
		expect(asked.html).toContain("Send a code by email");

		// The lost-access page offers it too, while it is on.
		const lost = await asked.browser.fetch(`${asked.page}/lost`);
		expect(await lost.text()).toContain("Send a code by email to a***@example.com");

		expect(smtp.mails).toHaveLength(before);

		// A session that sent a code before the tenant turned email off cannot use it afterwards (R-EM-1).
		const early = await start("frank");
		expect((await sendEmail(early)).status).toBe(200);
		const code = smtp.codeFor("frank.private@example.org");
		expect((await t.call("PATCH", "/v1/tenant", { email: { enabled: false } })).status).toBe(200);
		try {
			const off = await start("alice");
			expect(off.html).not.toContain("Send a code by email");
			const sent = smtp.mails.length;
			expect((await sendEmail(off)).status).toBe(409);
			expect(smtp.mails).toHaveLength(sent);
			expect((await submit(early, { email_code: code })).status).toBe(422);
		} finally {
			expect((await t.call("PATCH", "/v1/tenant", { email: { enabled: true } })).status).toBe(200);
		}

		// Turning store_address off forgets the addresses: nothing is offered, and nothing comes back on turning it on.
		expect((await t.call("PATCH", "/v1/tenant", { email: { store_address: false } })).status).toBe(200);
		expect((await start("alice")).html).not.toContain("Send a code by email");
		expect((await t.call("PATCH", "/v1/tenant", { email: { store_address: true } })).status).toBe(200);
		expect((await start("alice")).html).not.toContain("Send a code by email");
	});
});

/** The service's side of the offer, where the pages cannot show it: no mail configured means nothing to offer or send. */
describe("email codes to the stored address without a mailer", () => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp();
	});
	afterAll(() => t?.close());

	it("offers nothing and sends nothing when the operator configured no mail, whatever the tenant and the user's row say", async () => {
		expect((await t.call("PATCH", "/v1/tenant", { email: { enabled: true, store_address: true } })).status).toBe(200);
		await t.app.store.users.ensure(t.tenantId, "alice", t.clock().getTime());
		await t.app.store.users.setEmail(t.tenantId, "alice", "alice@example.com");
		const ctx = tenantContext((await t.app.store.tenants.find(t.tenantId))!, { id: "test", scope: "default" });
		expect(await t.app.services.challenges.storedEmailOffer(ctx, "alice")).toBeNull();
		expect(await t.app.services.challenges.sendEmailToStored(ctx, "alice")).toBeNull();
		expect(await t.app.store.challenges.countSince(t.tenantId, "alice", "email", 0)).toBe(0);
	});
});
