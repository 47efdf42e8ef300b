import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { it } from "vitest";
import { authenticationOptions, type RelyingParty, registrationOptions } from "../../../src/factors/webauthn/ceremony.js";
import { type AttestationStyle, SoftwareAuthenticator } from "../../software-authenticator.js";

/**
 * Re-captures the WebAuthn fixtures beside this file (README.md): one registration and one authentication per
 * authenticator, made for options from our own registrationOptions/authenticationOptions, written as JSON with their
 * challenge, origin and rp id. Not part of `npm test` (the fixtures are the point: they stay as captured); run it with
 *   npx vitest run --config packages/server/test/vectors/webauthn/capture.config.ts
 */

const HERE = dirname(fileURLToPath(import.meta.url));
const RP_ID = "localhost";

/** The Chromium flags of test/e2e/browser.test.ts: no sandbox as root, no background calls to a closed network. */
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export interface WebAuthnFixture {
	/** How it was made (README.md). */
	source: string;
	captured: string;
	rpId: string;
	origin: string;
	userVerification: "required" | "preferred";
	/** The user handle (user.id) of the registration options, base64url: an assertion's userHandle must match it. */
	userHandle: string;
	registration: { challenge: string; response: Record<string, unknown> };
	authentication: { challenge: string; response: Record<string, unknown> };
}

function relyingParty(origin: string): RelyingParty {
	return { id: RP_ID, name: "Twofold fixtures", origins: [origin], userVerification: "required", attestation: "none", allowSynced: true };
}

async function ceremonyOptions(origin: string) {
	const rp = relyingParty(origin);
	const userHandle = randomBytes(16);
	const registration = await registrationOptions(rp, { challenge: randomBytes(32), userHandle, userName: "fixture-user", exclude: [] });
	const authentication = (id: string) => authenticationOptions(rp, { challenge: randomBytes(32), allow: [{ id, transports: [] }] });
	return { registration, authentication, userHandle: userHandle.toString("base64url") };
}

function write(name: string, fixture: WebAuthnFixture): void {
	writeFileSync(join(HERE, name), `${JSON.stringify(fixture, null, "\t")}\n`);
}

const today = () => new Date().toISOString().slice(0, 10);

async function captureSoftware(name: string, attestation: AttestationStyle, source: string): Promise<void> {
	const origin = "http://localhost:5173";
	const authenticator = new SoftwareAuthenticator(RP_ID, origin);
	const options = await ceremonyOptions(origin);
	const registered = authenticator.register(options.registration, {}, attestation);
	const request = await options.authentication(authenticator.id);
	const asserted = authenticator.assert(request);
	write(name, {
		source,
		captured: today(),
		rpId: RP_ID,
		origin,
		userVerification: "required",
		userHandle: options.userHandle,
		registration: { challenge: options.registration.challenge, response: registered },
		authentication: { challenge: request.challenge, response: asserted },
	});
}

interface VirtualAuthenticator {
	/** For the fixture's source line. */
	description: string;
	options: { protocol: "ctap2"; transport: "internal" | "usb"; hasResidentKey: boolean; hasUserVerification: boolean; isUserVerified: boolean };
	/** Only these COSE algorithms offered, instead of ours (Ed25519, ES256, RS256: Chromium picks Ed25519). */
	algorithms?: number[];
}

/** Chromium's CDP virtual authenticator, as test/e2e/browser.test.ts drives it. */
async function captureChromium(name: string, authenticator: VirtualAuthenticator): Promise<void> {
	const site = createServer((_request, response) => response.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>WebAuthn capture</title>"));
	await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
	const origin = `http://localhost:${(site.address() as AddressInfo).port}`;
	const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
	try {
		const context = await browser.newContext();
		const page = await context.newPage();
		const cdp = await context.newCDPSession(page);
		await cdp.send("WebAuthn.enable");
		await cdp.send("WebAuthn.addVirtualAuthenticator", { options: authenticator.options });
		await page.goto(`${origin}/`);
		const options = await ceremonyOptions(origin);
		if (authenticator.algorithms !== undefined) options.registration.pubKeyCredParams = authenticator.algorithms.map((alg) => ({ type: "public-key", alg }));
		// The page's own JSON helpers (WebAuthn-3 §5.1.9, §5.1.8): Chromium parses the options and serializes the credential.
		const registered = (await page.evaluate(async (json) => {
			const P = PublicKeyCredential as unknown as { parseCreationOptionsFromJSON(json: unknown): PublicKeyCredentialCreationOptions };
			const credential = (await navigator.credentials.create({ publicKey: P.parseCreationOptionsFromJSON(json) })) as unknown as { toJSON(): unknown };
			return credential.toJSON();
		}, options.registration)) as Record<string, unknown>;
		const request = await options.authentication(registered.id as string);
		const asserted = (await page.evaluate(async (json) => {
			const P = PublicKeyCredential as unknown as { parseRequestOptionsFromJSON(json: unknown): PublicKeyCredentialRequestOptions };
			const credential = (await navigator.credentials.get({ publicKey: P.parseRequestOptionsFromJSON(json) })) as unknown as { toJSON(): unknown };
			return credential.toJSON();
		}, request)) as Record<string, unknown>;
		write(name, {
			source: `Chromium ${browser.version()} CDP virtual authenticator (${authenticator.description}), through playwright-core`,
			captured: today(),
			rpId: RP_ID,
			origin,
			userVerification: "required",
			userHandle: options.userHandle,
			registration: { challenge: options.registration.challenge, response: registered },
			authentication: { challenge: request.challenge, response: asserted },
		});
	} finally {
		await browser.close();
		site.close();
	}
}

it("captures the WebAuthn fixtures", async () => {
	await captureSoftware("software-none.json", { fmt: "none" }, "test/software-authenticator.ts, attestation none (ES256)");
	await captureSoftware("software-packed-self.json", { fmt: "packed-self" }, "test/software-authenticator.ts, packed self attestation (ES256)");
	await captureChromium("chromium-platform-ed25519.json", {
		description: "ctap2, internal, resident key, user verified; our options",
		options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
	});
	await captureChromium("chromium-usb-es256.json", {
		description: "ctap2, usb, no resident key, user verified; options offering ES256 only",
		options: { protocol: "ctap2", transport: "usb", hasResidentKey: false, hasUserVerification: true, isUserVerified: true },
		algorithms: [-7],
	});
});
