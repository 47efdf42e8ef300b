import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type CDPSession, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: the example is plain JavaScript, run as it is shipped.
import { startDemo } from "../../../../examples/webauthn-demo/server.mjs";
import { cli, hasTool, type ServerProcess, startServer } from "./process.js";

const CHROMIUM = hasTool("chromium", "chromium");

/** The flags TOOLS.md gives for Debian Chromium on these machines: no sandbox as root, and no background calls to a closed network. */
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

interface VirtualCredential {
	credentialId: string;
	isResidentCredential: boolean;
	privateKey: string;
	signCount: number;
	rpId?: string;
	userHandle?: string;
}

/**
 * A CDP virtual authenticator that can be unplugged and plugged in again with its
 * credentials, like a USB key; only plugged-in keys answer the page's ceremonies.
 */
class VirtualKey {
	private authenticatorId: string | null = null;
	private credentials: VirtualCredential[] = [];
	constructor(
		private readonly cdp: CDPSession,
		private readonly options: Record<string, unknown>,
	) {}

	/** A second key holding copies of this one's credentials, each with the counter given: a clone. */
	clone(signCount: number): VirtualKey {
		const copy = new VirtualKey(this.cdp, this.options);
		copy.credentials = this.credentials.map((credential) => ({ ...credential, signCount }));
		return copy;
	}

	async plugIn(): Promise<void> {
		const { authenticatorId } = await this.cdp.send("WebAuthn.addVirtualAuthenticator", { options: this.options as never });
		for (const credential of this.credentials) await this.cdp.send("WebAuthn.addCredential", { authenticatorId, credential: credential as never });
		this.authenticatorId = authenticatorId;
	}

	async unplug(): Promise<void> {
		this.credentials = await this.stored();
		await this.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: this.id() });
		this.authenticatorId = null;
	}

	async stored(): Promise<VirtualCredential[]> {
		const { credentials } = await this.cdp.send("WebAuthn.getCredentials", { authenticatorId: this.id() });
		return credentials as VirtualCredential[];
	}

	async setUserVerified(isUserVerified: boolean): Promise<void> {
		await this.cdp.send("WebAuthn.setUserVerified", { authenticatorId: this.id(), isUserVerified });
	}

	private id(): string {
		if (this.authenticatorId === null) throw new Error("the key is not plugged in");
		return this.authenticatorId;
	}
}

/**
 * The positive path of issue 3 in a real browser: Debian Chromium driven by
 * playwright-core, the CDP virtual authenticator, and the example application
 * under examples/webauthn-demo talking to the real `twofold serve` process.
 * The negative ceremony checks (V-15) run with a software authenticator in
 * test/http/webauthn.test.ts.
 */
describe.skipIf(!CHROMIUM)("passkeys and security keys in Chromium, through the example app", () => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-browser-"));
	const env = { TWOFOLD_DATA_DIR: dataDir };
	let server: ServerProcess;
	let demo: { url: string; close(): Promise<void> };
	let browser: Browser;
	let page: Page;
	let cdp: CDPSession;
	let apiKey: string;
	let laptop: VirtualKey; // a platform passkey: discoverable, user verification
	let usbKey: VirtualKey; // a roaming security key without resident-key storage
	const factorIds: Record<string, string> = {};

	const twofold = async (method: string, path: string, body?: unknown) => {
		const response = await fetch(`${server.url}${path}`, {
			method,
			headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		return { status: response.status, json: (await response.json()) as Record<string, any> };
	};

	/** Clicks a button of the demo page and returns what the page showed for that action. */
	async function act(selector: string): Promise<{ status: string; json: Record<string, any> }> {
		const out = page.locator("#out");
		const before = await out.getAttribute("data-seq");
		await page.click(selector);
		await page.waitForFunction((seq) => document.getElementById("out")!.dataset.seq !== seq, before, { timeout: 30_000 });
		return { status: (await out.getAttribute("data-status"))!, json: JSON.parse((await out.textContent())!) };
	}

	beforeAll(async () => {
		server = await startServer(env);
		const created = await cli(["tenants", "create", "--name", "Browser Test", "--json"], env);
		apiKey = (JSON.parse(created.stdout) as { api_key: string }).api_key;
		demo = await startDemo({ twofoldUrl: server.url, apiKey, port: 0 });
		const patched = await twofold("PATCH", "/v1/tenant", { webauthn: { rp_id: "localhost", rp_name: "Twofold demo", origins: [demo.url] } });
		expect(patched.status).toBe(200);

		browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
		const context = await browser.newContext();
		page = await context.newPage();
		cdp = await context.newCDPSession(page);
		await cdp.send("WebAuthn.enable");
		laptop = new VirtualKey(cdp, { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true });
		usbKey = new VirtualKey(cdp, { protocol: "ctap2", transport: "usb", hasResidentKey: false, hasUserVerification: true, isUserVerified: true });
		await page.goto(demo.url);
		await page.waitForSelector("body[data-ready=true]");
		await page.fill("#user", "browser-user");
		await page.dispatchEvent("#user", "change");
	});

	afterAll(async () => {
		await browser?.close();
		await demo?.close();
		await server?.stop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	it("registers a discoverable, user-verified passkey, which comes with recovery codes", async () => {
		await laptop.plugIn();
		await page.fill("#label", "Laptop");
		const added = await act("#add");
		expect(added.status, JSON.stringify(added.json)).toBe("ok");
		expect(added.json.factor).toMatchObject({ type: "webauthn", status: "active", label: "Laptop" });
		expect(added.json.recovery_codes).toHaveLength(10);
		factorIds.laptop = added.json.factor.id;
		const [credential, ...others] = await laptop.stored();
		expect(others).toHaveLength(0);
		// Discoverable: the authenticator keeps the credential and the user handle Twofold gave it.
		expect(credential).toMatchObject({ isResidentCredential: true, rpId: "localhost" });
		expect(credential!.userHandle).toBeTruthy();
	});

	it("verifies with it, and the signature counter rises each time (R-WA-3)", async () => {
		const counts: number[] = [];
		for (let i = 0; i < 2; i++) {
			const verified = await act("#verify");
			expect(verified.json).toEqual({ valid: true, method: "webauthn", factor_id: factorIds.laptop, recovery_codes_remaining: 10, assertion: expect.any(String) });
			counts.push((await laptop.stored())[0]!.signCount);
		}
		expect(counts[0]).toBeGreaterThan(0);
		expect(counts[1]).toBeGreaterThan(counts[0]!);
	});

	it("adds a security key only with a proof from the passkey (R-LC-1)", async () => {
		await page.fill("#label", "USB key");
		const refused = await act("#add");
		expect(refused.json.error.code).toBe("proof_required");
		// The passkey signs a fresh challenge; the page holds that assertion for the next change.
		expect((await act("#confirm")).json).toMatchObject({ proof: "held" });
		await laptop.unplug();
		await usbKey.plugIn();
		const added = await act("#add");
		expect(added.status, JSON.stringify(added.json)).toBe("ok");
		expect(added.json.factor).toMatchObject({ type: "webauthn", status: "active", label: "USB key" });
		expect(added.json.recovery_codes).toBeUndefined();
		factorIds.usb = added.json.factor.id;
		expect((await usbKey.stored())[0]).toMatchObject({ isResidentCredential: false });
	});

	it("verifies with each of the two", async () => {
		expect((await act("#verify")).json).toMatchObject({ valid: true, factor_id: factorIds.usb });
		await usbKey.unplug();
		await laptop.plugIn();
		expect((await act("#verify")).json).toMatchObject({ valid: true, factor_id: factorIds.laptop });
		const listed = await twofold("GET", "/v1/users/browser-user/factors");
		expect(listed.json.factors.filter((f: { status: string }) => f.status === "active")).toHaveLength(2);
	});

	it("user verification required and the authenticator not verifying: refused", async () => {
		await laptop.setUserVerified(false);
		const refused = await act("#verify");
		expect(refused.status).toBe("error");
		expect(refused.json.error).toMatchObject({ code: "browser_refused", name: "NotAllowedError" });
		await laptop.setUserVerified(true);
		expect((await act("#verify")).json).toMatchObject({ valid: true });
	});

	it("removes the security key with a proof, and its assertions are refused from then on (R-LC-3)", async () => {
		expect((await act("#confirm")).json).toMatchObject({ proof: "held" });
		expect((await act(`[data-remove="${factorIds.usb}"]`)).json).toEqual({ removed: factorIds.usb });
		await laptop.unplug();
		await usbKey.plugIn();
		// Twofold's challenges stop listing the key's credential (so a browser would offer nothing to sign with) …
		const [{ credentialId }] = await usbKey.stored();
		const challenge = await twofold("POST", "/v1/users/browser-user/challenges", { type: "webauthn" });
		expect(challenge.json.webauthn.options.allowCredentials.map((c: { id: string }) => c.id)).not.toContain(credentialId);
		// … and an assertion made by naming the credential anyway is refused by Twofold.
		// Passed as source text: vitest would rewrite a dynamic import() inside a function.
		const forced = (await page.evaluate(`(async () => {
			const { authenticate } = await import(${JSON.stringify(`${server.url}/v1/browser.js`)});
			const post = async (path, body) =>
				(await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json();
			const challenge = await post("/api/challenge", { user: "browser-user" });
			const options = { ...challenge.webauthn.options, allowCredentials: [{ id: ${JSON.stringify(credentialId)}, type: "public-key" }] };
			const credential = await authenticate(options);
			return post("/api/verify", { user: "browser-user", challenge_id: challenge.challenge.id, credential });
		})()`)) as { error: { code: string } };
		expect(forced.error.code).toBe("invalid_code");
		await usbKey.unplug();
	});

	it("a clone of the passkey with a lower counter is refused and audited (R-WA-3)", async () => {
		await laptop.plugIn();
		expect((await act("#verify")).json).toMatchObject({ valid: true });
		await laptop.unplug();
		const clone = laptop.clone(1);
		await clone.plugIn();
		const refused = await act("#verify");
		expect(refused.json.error.code).toBe("invalid_code");
		const events = await twofold("GET", "/v1/events?user_id=browser-user&type=webauthn.counter_regression");
		expect(events.json.events).toHaveLength(1);
		expect(events.json.events[0].data.presented_counter).toBe(2);
		await clone.unplug();
		// The real key goes on working: its counter is still above the stored one.
		await laptop.plugIn();
		expect((await act("#verify")).json).toMatchObject({ valid: true, factor_id: factorIds.laptop });
	});
});
