import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { actionHash, requestAction } from "@twofold/sdk";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: the example is plain JavaScript, run as it is shipped.
import { startApp } from "../../../../examples/stepup-app/server.mjs";
import { cli, hasTool, type ServerProcess, startServer } from "./process.js";

const CHROMIUM = hasTool("chromium", "chromium");
const OATHTOOL = hasTool("oathtool", "oathtool");
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const PASSWORD = "correct horse battery";

/** A free loopback port: the app's redirect URI names it, and the client must be registered before the app starts. */
async function freePort(): Promise<number> {
	const probe = createServer();
	await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
	const { port } = probe.address() as { port: number };
	await new Promise((resolve) => probe.close(resolve));
	return port;
}

/**
 * examples/stepup-app (issue 4, moved to the prompt by issue 15), driven in Debian Chromium against a real
 * `twofold serve` process: the app has no 2FA screen of its own; signing in, enrolling, the email change (its action
 * bound) and managing the factors all go through the Twofold Prompt. The server runs with the real clock, so codes
 * come from oathtool at the current time (each TOTP step is accepted once: the next use takes the next step).
 */
describe.skipIf(!CHROMIUM || !OATHTOOL)("the step-up example app on the Twofold Prompt, in Chromium, against a real Twofold", () => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-stepup-"));
	const env = { TWOFOLD_DATA_DIR: dataDir };
	let server: ServerProcess;
	let app: { url: string; close(): Promise<void> };
	let tenant: { tenant_id: string; api_key: string };
	/** The app's default-scope key (tenant.api_key is the tenant's admin key). */
	let appKey = "";
	let browser: Browser;
	let context: BrowserContext;
	let page: Page;
	/** The user's authenticator app: the key read off the enrollment page, and the last time step it gave a code for. */
	let secret = "";
	let lastStep = 0;
	let recoveryCodes: string[] = [];
	let email = "ada@example.com";

	/** The next unused TOTP code, from oathtool: this step's, or the next one's (±1 step window), waiting if both are spent. */
	async function nextCode(): Promise<string> {
		const step = () => Math.floor(Date.now() / 30_000);
		let use = Math.max(step(), lastStep + 1);
		while (use > step() + 1) {
			await new Promise((resolve) => setTimeout(resolve, 1000));
			use = Math.max(step(), lastStep + 1);
		}
		lastStep = use;
		return execFileSync("oathtool", ["--totp", "-b", secret, "-N", `@${use * 30}`], { encoding: "utf8" }).trim();
	}
	const twofoldOrigin = () => new URL(server.url).origin;
	/** The app's notice line after a redirect back from the prompt. */
	const notice = async () => (await page.locator("#notice").textContent())?.trim();
	const factors = async (userId: string) => {
		const response = await fetch(`${server.url}/v1/users/${encodeURIComponent(userId)}/factors`, { headers: { authorization: `Bearer ${tenant.api_key}` } });
		return ((await response.json()) as { factors: { id: string; status: string }[] }).factors;
	};
	/** The app's user id, as Twofold knows it (its login_hint): the API token's /me tells it. */
	let userId = "";
	/**
	 * A proxy log between the app and Twofold: every exchange at the token endpoint, as it crossed the wire (the
	 * request's headers and form, the answer). The app calls through it with the real fetch; it changes nothing.
	 */
	const wire: { url: string; headers: Headers; form: string; answer: Record<string, unknown> }[] = [];
	const tap: typeof fetch = async (input, init) => {
		const response = await fetch(input, init);
		const url = input instanceof Request ? input.url : String(input);
		if (url.endsWith("/token")) wire.push({ url, headers: new Headers(init?.headers), form: String(init?.body), answer: (await response.clone().json()) as Record<string, unknown> });
		return response;
	};
	const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;

	beforeAll(async () => {
		server = await startServer(env);
		tenant = JSON.parse((await cli(["tenants", "create", "--name", "Example", "--json"], env)).stdout) as { tenant_id: string; api_key: string };
		// The app's everyday key is a default-scope one, as its README creates it; the admin key only erases users.
		const key = await cli(["keys", "create", "--tenant", tenant.tenant_id, "--scope", "default", "--json"], env);
		expect(key.code, key.stderr).toBe(0);
		appKey = (JSON.parse(key.stdout) as { api_key: string }).api_key;
		const port = await freePort();
		const created = await cli(["clients", "create", "--tenant", tenant.tenant_id, "--name", "Example Shop", "--redirect-uri", `http://127.0.0.1:${port}/2fa/callback`, "--json"], env);
		expect(created.code, created.stderr).toBe(0);
		const client = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
		app = await startApp({ twofoldUrl: server.url, apiKey: appKey, adminApiKey: tenant.api_key, tenantId: tenant.tenant_id, port, prompt: { clientId: client.client_id, clientSecret: client.client_secret }, fetch: tap });
		browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
		context = await browser.newContext();
		page = await context.newPage();
	}, 60_000);
	afterAll(async () => {
		await browser?.close();
		await app?.close();
		await server?.stop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	it("signs up, and enrolls TOTP on the prompt: the key read from the page, confirmed with oathtool's code, recovery codes shown once", async () => {
		await page.goto(app.url);
		await page.fill("#signup-email", email);
		await page.fill("#signup-password", PASSWORD);
		await page.click("#signup-submit");
		expect(await page.locator("#two-factor").textContent()).toBe("Two-factor authentication is off.");

		await page.click("#setup-submit");
		// Twofold's page now, not the app's: the app has no 2FA screen of its own.
		expect(new URL(page.url()).origin).toBe(twofoldOrigin());
		await page.click("#enroll-submit"); // an authenticator app (the only choice: no passkey on 127.0.0.1)
		await page.click("details.manual summary");
		secret = ((await page.locator("#secret").textContent()) ?? "").replace(/\s+/g, "");
		expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
		expect(await page.locator("#qr").getAttribute("src")).toMatch(/^data:image\/svg\+xml;base64,/);
		await page.fill("#code", await nextCode());
		await page.click("#confirm-submit");

		recoveryCodes = (await page.locator("#recovery-codes code").allTextContents()).map((code) => code.trim());
		expect(recoveryCodes.length).toBeGreaterThanOrEqual(8);
		await page.check("#saved");
		await page.click("#saved-submit");
		expect(page.url()).toBe(`${app.url}/`);
		expect(await notice()).toBe("Two-factor authentication is set up.");
		expect(await page.locator("#two-factor").textContent()).toBe("Two-factor authentication is on.");
		// Nowhere on the app's page a code field of its own.
		expect(await page.locator("input[autocomplete='one-time-code'], input[name='code']").count()).toBe(0);
	}, 120_000);

	it("signs in again: the password opens nothing but the second step, which the prompt does with a code", async () => {
		await page.click("#logout-submit");
		await page.fill("#login-email", email);
		await page.fill("#login-password", PASSWORD);
		await page.click("#login-submit");
		// Straight to Twofold's verify page.
		expect(new URL(page.url()).origin).toBe(twofoldOrigin());
		await page.locator("#code").waitFor();

		// Meanwhile the app's session is not signed in yet: another tab shows only the way to the second step.
		const tab = await context.newPage();
		await tab.goto(app.url);
		expect(await tab.locator("#second-step-submit").count()).toBe(1);
		expect(await tab.locator("#change-email, #new-token, #manage").count()).toBe(0);
		await tab.close();

		// A wrong code is refused on the page, which asks again.
		await page.fill("#code", "000000");
		await page.click("#verify-submit");
		expect(new URL(page.url()).origin).toBe(twofoldOrigin());
		await page.locator("#error-summary").waitFor();

		await page.fill("#code", await nextCode());
		await page.click("#verify-submit");
		expect(page.url()).toBe(`${app.url}/`);
		expect(await notice()).toBe("Signed in with two-factor authentication.");
		expect(await page.locator("#email").textContent()).toBe(email);
	}, 120_000);

	it("cancelling on the prompt changes nothing", async () => {
		await page.fill("#new-email", "mallory@example.com");
		await page.click("#change-email-submit");
		expect(await page.locator("#action-description").textContent()).toBe("Change your email address to mallory@example.com");
		await page.click("#cancel");
		expect(page.url()).toBe(`${app.url}/`);
		expect(await notice()).toBe("The two-factor step was cancelled: nothing was changed.");
		expect(await page.locator("#email").textContent()).toBe(email);
	});

	it("changes the email with the change bound on the prompt, once: the answer cannot be presented again, and the assertion is spent (R-AS-5)", async () => {
		const wanted = "ada.lovelace@example.com";
		await page.fill("#new-email", wanted);
		await page.click("#change-email-submit");
		// The prompt shows the app's own words for what is approved.
		expect(new URL(page.url()).origin).toBe(twofoldOrigin());
		expect(await page.locator("#action-description").textContent()).toBe(`Change your email address to ${wanted}`);
		await page.fill("#code", await nextCode());
		const callback = page.waitForRequest((request) => request.url().startsWith(`${app.url}/2fa/callback`));
		const exchanged = wire.length;
		await page.click("#verify-submit");
		const answer = (await callback).url();
		expect(new URL(answer).searchParams.get("iss")).toBe(`${server.url}/t/${tenant.tenant_id}`);
		expect(page.url()).toBe(`${app.url}/`);
		expect(await notice()).toBe(`Your email address is now ${wanted}.`);
		expect(await page.locator("#email").textContent()).toBe(wanted);
		email = wanted;

		// What the app got back: an id_token and an assertion bound to the same action (POST /account/email with this body).
		expect(wire).toHaveLength(exchanged + 1);
		const exchange = wire[exchanged]!;
		const idToken = claimsOf(exchange.answer.id_token as string);
		const assertion = exchange.answer.twofold_assertion as string;
		// Exactly this change, computed here on our own: the request the app makes, with this body.
		expect(idToken.action_hash).toBe(await actionHash(await requestAction("POST", "/account/email", { email: wanted })));
		expect(claimsOf(assertion).action_hash).toBe(idToken.action_hash);
		expect(idToken.sub).toBe(claimsOf(assertion).sub);

		// The same answer again (a double submit, the back button): nothing waits for it any more.
		const replayed = await page.goto(answer);
		expect(replayed?.status()).toBe(400);
		expect(await notice()).toMatch(/^No two-factor step of yours is waiting for this answer/);
		// Another browser (someone who copied the URL) has no prompt of this user either.
		const other = await browser.newContext();
		const stranger = await other.newPage();
		expect((await stranger.goto(answer))?.status()).toBe(400);
		await other.close();
		await page.goto(app.url);
		expect(await page.locator("#email").textContent()).toBe(wanted);

		// Whoever read the proxy log cannot present the assertion again: the app spent it with Twofold when it made the change.
		const redeem = await fetch(`${server.url}/v1/assertions/redeem`, {
			method: "POST",
			headers: { authorization: `Bearer ${tenant.api_key}`, "content-type": "application/json" },
			body: JSON.stringify({ assertion }),
		});
		expect(redeem.status).toBe(409);
		expect(((await redeem.json()) as { error: { code: string } }).error.code).toBe("assertion_redeemed");
		// Nor exchange the code again, even with the app's own client authentication and verifier: a code works once (RFC 6749 §4.1.2).
		const again = await fetch(exchange.url, { method: "POST", headers: exchange.headers, body: exchange.form });
		expect(again.status).toBe(400);
		expect(((await again.json()) as { error: string }).error).toBe("invalid_grant");
	}, 120_000);

	it("an API token reads records but never manages the account", async () => {
		await page.click("#new-token-submit");
		const token = ((await page.locator("#api-token").textContent()) ?? "").trim();
		expect(token.length).toBeGreaterThan(20);
		const records = await fetch(`${app.url}/records`, { headers: { authorization: `Token ${token}` } });
		expect(records.status).toBe(200);
		const me = (await (await fetch(`${app.url}/me`, { headers: { authorization: `Token ${token}` } })).json()) as { id: string; email: string };
		expect(me.email).toBe(email);
		userId = me.id;
		const refused = await fetch(`${app.url}/account/email`, { method: "POST", headers: { authorization: `Token ${token}`, "content-type": "application/x-www-form-urlencoded" }, body: "email=x%40example.com" });
		expect(refused.status).toBe(403);
		expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("token_not_allowed");
	});

	it("manages on the prompt: a fresh proof (a recovery code) to enter, another to remove the factor; back in the app 2FA is off", async () => {
		expect((await factors(userId)).filter((factor) => factor.status === "active")).toHaveLength(1);
		await page.click("#manage-submit");
		expect(new URL(page.url()).origin).toBe(twofoldOrigin());
		await page.click("#use-recovery");
		await page.fill("#recovery-code", recoveryCodes[0]!);
		await page.click("#recovery-submit");
		const [factor] = await factors(userId);
		await page.click(`#remove-${factor!.id}`);
		await page.fill("#code", recoveryCodes[1]!);
		await page.click("#change-submit");
		await page.locator("#notice").waitFor();
		await page.click("#done");
		expect(page.url()).toBe(`${app.url}/`);
		expect(await notice()).toBe("Two-factor authentication is off: you removed your last factor.");
		expect(await page.locator("#two-factor").textContent()).toBe("Two-factor authentication is off.");
		expect((await factors(userId)).filter((f) => f.status === "active")).toHaveLength(0);
	});

	it("a form posted from another origin (cross-site request forgery) starts nothing: the app's forms carry its session's token", async () => {
		// The attacker's page on another port of the same host: same site, so SameSite=Lax alone would let the cookie through.
		const attacker = createHttpServer((_req, res) => {
			res.setHeader("content-type", "text/html");
			res.end(`<!doctype html><title>win a prize</title><form method="post" action="${app.url}/account/email"><input name="email" value="mallory@example.com"><input name="csrf" value="guess"></form><script>document.forms[0].submit()</script>`);
		});
		await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
		try {
			const tab = await context.newPage();
			const answered = tab.waitForResponse((response) => response.url() === `${app.url}/account/email`);
			await tab.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
			expect((await answered).status()).toBe(403);
			// Not sent on to Twofold: no prompt was started for the attacker's change.
			expect(new URL(tab.url()).origin).toBe(new URL(app.url).origin);
			await tab.close();
		} finally {
			await new Promise((resolve) => attacker.close(resolve));
		}
		await page.goto(app.url);
		expect(await page.locator("#email").textContent()).toBe(email);
	});

	it("after a signing-key rotation by the CLI, enrolls again and deletes the account with the deletion bound: the app accepts the assertion under the new key", async () => {
		const rotated = JSON.parse((await cli(["keys", "rotate-signing", "--immediate", "--json"], env)).stdout) as { kid: string };
		await new Promise((resolve) => setTimeout(resolve, 1100)); // the server re-reads its keys within a second
		// Without a factor there is nothing to approve a change with: the app says so and sends no one to Twofold.
		await page.fill("#new-email", "ada.l@example.com");
		await page.click("#change-email-submit");
		expect(page.url()).toBe(`${app.url}/`);
		expect(await notice()).toBe("Set up two-factor authentication first: changes to your account are approved with it.");
		expect(await page.locator("#email").textContent()).toBe(email);

		await page.click("#setup-submit");
		await page.click("#enroll-submit");
		await page.click("details.manual summary");
		secret = ((await page.locator("#secret").textContent()) ?? "").replace(/\s+/g, "");
		lastStep = 0; // a new key: none of its steps is spent
		await page.fill("#code", await nextCode());
		await page.click("#confirm-submit");
		if (new URL(page.url()).origin === twofoldOrigin()) {
			// New recovery codes when the old set was used up or replaced: acknowledged as before.
			await page.check("#saved");
			await page.click("#saved-submit");
		}
		expect(await page.locator("#two-factor").textContent()).toBe("Two-factor authentication is on.");

		await page.click("#delete-submit");
		expect(await page.locator("#action-description").textContent()).toBe("Delete your account and everything in it");
		await page.fill("#code", await nextCode());
		const exchanged = wire.length;
		await page.click("#verify-submit");
		expect(page.url()).toBe(`${app.url}/`);
		expect(await notice()).toBe("Your account is deleted.");
		const assertion = wire[exchanged]!.answer.twofold_assertion as string;
		expect(JSON.parse(Buffer.from(assertion.split(".")[0]!, "base64url").toString()).kid).toBe(rotated.kid);
		// Signed out, and gone from Twofold: the app erased its user there too.
		expect(await page.locator("#login-submit").count()).toBe(1);
		expect(await factors(userId)).toEqual([]);
	}, 120_000);

	it("runs as its README starts it (node examples/stepup-app/server.mjs with the env), and refuses to start without a client", async () => {
		const script = new URL("../../../../examples/stepup-app/server.mjs", import.meta.url).pathname;
		const missing = spawnSync(process.execPath, [script], { env: { ...process.env, TWOFOLD_URL: server.url, TWOFOLD_API_KEY: appKey, TWOFOLD_TENANT: tenant.tenant_id }, encoding: "utf8" });
		expect(missing.status).toBe(2);
		expect(missing.stderr).toContain("TWOFOLD_CLIENT_ID");

		const port = await freePort();
		const created = JSON.parse((await cli(["clients", "create", "--tenant", tenant.tenant_id, "--name", "Example", "--redirect-uri", `http://127.0.0.1:${port}/2fa/callback`, "--json"], env)).stdout) as { client_id: string; client_secret: string };
		const child = spawn(process.execPath, [script], {
			env: { ...process.env, TWOFOLD_URL: server.url, TWOFOLD_API_KEY: appKey, TWOFOLD_TENANT: tenant.tenant_id, TWOFOLD_CLIENT_ID: created.client_id, TWOFOLD_CLIENT_SECRET: created.client_secret, PORT: String(port) },
			stdio: ["ignore", "pipe", "pipe"],
		});
		try {
			let output = "";
			await new Promise<void>((resolve, reject) => {
				const timer = setTimeout(() => reject(new Error(`the app did not start:\n${output}`)), 20_000);
				const read = (chunk: Buffer) => {
					output += chunk;
					if (output.includes(`Example app at http://127.0.0.1:${port}`)) {
						clearTimeout(timer);
						resolve();
					}
				};
				child.stdout!.on("data", read);
				child.stderr!.on("data", read);
			});
			// A browser's first steps, by hand: the session cookie and the form's token, a sign-up, then "set up 2FA".
			const base = `http://127.0.0.1:${port}`;
			const visit = async (cookie?: string) => {
				const response = await fetch(`${base}/`, { headers: cookie === undefined ? {} : { cookie } });
				const html = await response.text();
				return { cookie: cookie ?? response.headers.get("set-cookie")!.split(";")[0]!, csrf: /name="csrf" value="([^"]+)"/.exec(html)![1]! };
			};
			const post = (path: string, cookie: string, form: Record<string, string>) =>
				fetch(`${base}${path}`, { method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });
			const first = await visit();
			const signedUp = await post("/signup", first.cookie, { csrf: first.csrf, email: "grace@example.com", password: PASSWORD });
			expect(signedUp.status).toBe(303);
			const account = await visit(signedUp.headers.get("set-cookie")!.split(";")[0]!);
			const setup = await post("/2fa/setup", account.cookie, { csrf: account.csrf });
			expect(setup.status).toBe(303);
			// Off to the tenant's prompt with a pushed request: only the client id and the request_uri travel in the URL.
			const location = new URL(setup.headers.get("location")!);
			expect(`${location.origin}${location.pathname}`).toBe(`${server.url}/t/${tenant.tenant_id}/authorize`);
			expect([...location.searchParams.keys()].sort()).toEqual(["client_id", "request_uri"]);
			expect(location.searchParams.get("client_id")).toBe(created.client_id);
		} finally {
			child.kill();
		}
	});
});
