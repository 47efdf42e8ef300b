import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { envelopeKeyId } from "../../src/core/envelope.js";
import { createKeyring, masterKeyId } from "../../src/core/keyring.js";
import { PROMPT_COOKIE, sealState, sessionIdHash } from "../../src/http/prompt-session.js";
import { rewrapSecrets } from "../../src/services/master-key-rotation.js";
import { codeFor, createPostgresSchema, DIALECTS, nextStep, testClock } from "../helpers.js";
import { Browser, csrfOf, form } from "../prompt-browser.js";

const REDIRECT = "http://127.0.0.1:9/callback";

/**
 * Master-key rotation and the prompt's sessions (issue 15, R-ST-3). prompt_sessions' envelopes (the last proof's
 * assertion, a pending enrollment's key, recovery codes until acknowledged) are not rewrapped: a session lives an hour
 * at most, and the interaction it belongs to cannot outlive the old key anyway (oidc-provider's cookie keys are
 * derived from every configured master key, so its interaction cookies signed under the old one stop verifying when
 * that key is removed). What must hold instead: an envelope that no longer opens makes the page ask again, never a
 * 500 and never a finished interaction without a proof; and removing the old key after the rewrap leaves a browser
 * mid-interaction with a page saying to start again.
 */
describe.each(DIALECTS)("prompt sessions across a master-key rotation (%s)", (dialect) => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-prompt-kek-"));
	const oldKey = randomBytes(32);
	const newKey = randomBytes(32);
	const clock = testClock();
	let schema: Awaited<ReturnType<typeof createPostgresSchema>> | undefined;
	let app: App;
	let apiKey: string;
	let tenantId: string;
	let clientId: string;
	let clientSecret: string;
	let base: string;
	let aliceSecret: string;

	const open = (keys: Buffer[]) =>
		createApp(
			loadConfig(
				{
					TWOFOLD_DATA_DIR: dataDir,
					TWOFOLD_MASTER_KEY: keys.map((key) => key.toString("base64")).join(","),
					...(schema === undefined ? {} : { TWOFOLD_DATABASE_URL: schema.url }),
				},
				process.cwd(),
			),
			{ logger: false, clock },
		);
	/**
	 * Listens on a new loopback port each time: reusing the old one lets fetch reuse a keep-alive socket of the closed
	 * server. The interaction's pages are same-path, and the browser follows to the new address.
	 */
	async function serve(keys: Buffer[]): Promise<void> {
		app = await open(keys);
		const http = await app.http();
		await http.listen({ port: 0, host: "127.0.0.1" });
		const port = (http.server.address() as AddressInfo).port;
		base = `http://127.0.0.1:${port}`;
		app.listeningAt(base);
	}
	const call = async (method: string, url: string, body?: unknown) => {
		const response = await (await app.http()).inject({ method: method as "POST", url, headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
		return { status: response.statusCode, json: response.json() as any, body: response.body };
	};

	async function start(user: string, intent: "verify" | "manage") {
		const config = await client.discovery(new URL(`${base}/t/${tenantId}`), clientId, undefined, client.ClientSecretBasic(clientSecret), { execute: [client.allowInsecureRequests] });
		const verifier = client.randomPKCECodeVerifier();
		const nonce = client.randomNonce();
		const state = client.randomState();
		const url = await client.buildAuthorizationUrlWithPAR(config, {
			redirect_uri: REDIRECT,
			scope: "openid",
			code_challenge: await client.calculatePKCECodeChallenge(verifier),
			code_challenge_method: "S256",
			nonce,
			state,
			login_hint: user,
			intent,
		});
		const browser = new Browser(base);
		const authorize = await browser.fetch(url.href);
		expect(authorize.status, await authorize.clone().text()).toBe(303);
		const page = authorize.headers.get("location")!;
		const first = await browser.fetch(page);
		const html = await first.text();
		expect(first.status, html).toBe(200);
		return { browser, page, html, csrf: csrfOf(html), uid: page.split("/").at(-1)!, config, verifier, nonce, state };
	}
	type Flow = Awaited<ReturnType<typeof start>>;
	const sessionKey = (flow: Flow) => ({ idHash: sessionIdHash(flow.browser.cookies.get(PROMPT_COOKIE)!), tenantId, uid: flow.uid });
	const post = (flow: Flow, path: string, fields: Record<string, string> = {}) => flow.browser.fetch(`${flow.page}${path}`, form({ csrf: flow.csrf, ...fields }));

	beforeAll(async () => {
		schema = dialect === "postgres" ? await createPostgresSchema() : undefined;
		await serve([oldKey]);
		const created = await app.services.tenants.create("acme");
		apiKey = created.apiKey;
		tenantId = created.tenant.id;
		const registered = await call("POST", "/v1/clients", { name: "Shop", redirect_uris: [REDIRECT] });
		expect(registered.status, registered.body).toBe(201);
		clientId = registered.json.client.client_id;
		clientSecret = registered.json.client_secret;
		const enrolled = await call("POST", "/v1/users/alice/factors", { type: "totp" });
		aliceSecret = enrolled.json.totp.secret;
		expect((await call("POST", `/v1/users/alice/factors/${enrolled.json.factor.id}/confirm`, { code: codeFor(aliceSecret, clock()) })).status).toBe(200);
	});
	afterAll(async () => {
		await app?.close();
		await schema?.drop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	it("an envelope that no longer opens (sealed under a key not in the ring) makes the user prove again: no 500, nothing finished without a proof", async () => {
		const flow = await start("alice", "manage");
		nextStep(clock);
		const proved = await post(flow, "/verify", { code: codeFor(aliceSecret, clock()) });
		expect(proved.status, await proved.clone().text()).toBe(303);
		expect(await (await flow.browser.fetch(flow.page)).text()).toContain('id="factors"');

		// What a retired key leaves behind: the session's proof sealed under a master key this node does not have.
		const foreign = createKeyring([randomBytes(32)]);
		const key = sessionKey(flow);
		const sealed = sealState(foreign, (n) => new Uint8Array(randomBytes(n)), key, "proof_envelope", { assertion: "x", method: "totp" });
		expect(await app.store.promptSessions.update(key.idHash, tenantId, flow.uid, clock().getTime(), { proof_envelope: sealed })).toBe(true);

		const shown = await flow.browser.fetch(flow.page);
		expect(shown.status).toBe(200);
		const done = await post(flow, "/manage/done");
		const asked = await done.text();
		expect(done.status, asked).toBe(403);
		expect(asked).toContain("Confirm it's you again");
		// Proving again seals a new proof under the active key, and the interaction ends with it.
		nextStep(clock);
		expect((await post(flow, "/verify", { code: codeFor(aliceSecret, clock()) })).status).toBe(303);
		const finished = await post(flow, "/manage/done");
		expect(finished.status, await finished.clone().text()).toBe(303);
		const resume = await flow.browser.fetch(finished.headers.get("location")!);
		expect(resume.status).toBe(303);
		const tokens = await client.authorizationCodeGrant(flow.config, new URL(resume.headers.get("location")!), { pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state, idTokenExpected: true });
		expect(tokens.claims()).toMatchObject({ sub: "alice", acr: "urn:twofold:acr:otp" });
	});

	it("rotation, rewrap, old key removed: sessions are not rewrapped, the node starts, and an interaction begun before ends in 'start again', never a 500 or a shown secret", async () => {
		// Bob enrolls his first factor: the page shows a key, sealed in his session under the old key.
		const bob = await start("bob", "verify");
		const chosen = await post(bob, "/enroll", { kind: "totp" });
		expect(chosen.status, await chosen.clone().text()).toBe(303);
		const setup = await (await bob.browser.fetch(bob.page)).text();
		const shownKey = /<code class="secret" id="secret">([^<]+)<\/code>/.exec(setup)?.[1]?.trim();
		expect(shownKey).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
		// Alice proved on a manage interaction: her proof is sealed under the old key too.
		const alice = await start("alice", "manage");
		nextStep(clock);
		expect((await post(alice, "/verify", { code: codeFor(aliceSecret, clock()) })).status).toBe(303);
		await app.close();

		// Step 1 and 2 of docs/deploy.md: both keys, new first; rewrap.
		await serve([newKey, oldKey]);
		const report = await rewrapSecrets(app.services.deps);
		expect(report.key_ids_in_use).toEqual([masterKeyId(newKey)]);
		const bobRow = await app.store.promptSessions.find(sessionKey(bob).idHash, tenantId, bob.uid, clock().getTime());
		expect(envelopeKeyId(bobRow!.enrollment_envelope!)).toBe(masterKeyId(oldKey));
		await app.close();

		// Step 3: the old key removed. The node starts: session envelopes do not hold it back (D-8 counts stored secrets only).
		await serve([newKey]);
		for (const flow of [bob, alice]) flow.browser.base = base;
		for (const flow of [bob, alice]) {
			const page = await flow.browser.fetch(flow.page);
			const html = await page.text();
			expect(page.status, html).toBe(410);
			expect(html).toContain("Go back to the application and start again.");
			expect(html).not.toContain(shownKey!);
		}
		nextStep(clock);
		const confirm = await post(bob, "/enroll/confirm", { code: "123456" });
		expect([403, 410]).toContain(confirm.status);
		const done = await post(alice, "/manage/done");
		expect([403, 410]).toContain(done.status);
		// A new interaction works under the new key alone.
		const again = await start("alice", "verify");
		nextStep(clock);
		const verified = await post(again, "/verify", { code: codeFor(aliceSecret, clock()) });
		expect(verified.status, await verified.clone().text()).toBe(303);
	});
});
