import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkAssertion, checkRegistration, isCounterRegression, type RegisteredCredential, type RelyingParty } from "../../src/factors/webauthn/ceremony.js";
import type { WebAuthnFixture } from "./webauthn/capture.js";

/**
 * Captured WebAuthn responses (test/vectors/webauthn/README.md: the software authenticator and Chromium's virtual
 * authenticator) through our own ceremony checks: each is accepted as captured, and refused for the right reason when
 * one byte of its signature, its origin, its challenge or its counter is changed (V-15, R-WA-3, issue 14).
 */

const DIR = join(dirname(fileURLToPath(import.meta.url)), "webauthn");
const FIXTURES = readdirSync(DIR)
	.filter((name) => name.endsWith(".json"))
	.sort();

function load(name: string): WebAuthnFixture {
	return JSON.parse(readFileSync(join(DIR, name), "utf8")) as WebAuthnFixture;
}

function relyingParty(fixture: WebAuthnFixture): RelyingParty {
	return { id: fixture.rpId, name: "Twofold fixtures", origins: [fixture.origin], userVerification: fixture.userVerification, attestation: "none", allowSynced: true };
}

const bytes = (b64u: string) => Buffer.from(b64u, "base64url");

/** The same base64url value with one byte changed (its low bit flipped). */
function flipByte(b64u: string, index: (length: number) => number): string {
	const buffer = bytes(b64u);
	buffer[index(buffer.length)]! ^= 0x01;
	return buffer.toString("base64url");
}

/** A copy of the credential with some of its response's fields replaced. */
function withResponse(credential: Record<string, unknown>, fields: Record<string, unknown>): Record<string, unknown> {
	return { ...credential, response: { ...(credential.response as Record<string, unknown>), ...fields } };
}

/** The response's clientDataJSON with its origin's last byte changed (":5173" → ":5172"). */
function withOtherOrigin(credential: Record<string, unknown>): Record<string, unknown> {
	const clientData = JSON.parse(bytes((credential.response as { clientDataJSON: string }).clientDataJSON).toString("utf8")) as { origin: string };
	const origin = clientData.origin;
	const last = origin.charCodeAt(origin.length - 1);
	clientData.origin = origin.slice(0, -1) + String.fromCharCode(last ^ 0x01);
	return withResponse(credential, { clientDataJSON: Buffer.from(JSON.stringify(clientData)).toString("base64url") });
}

/** WebAuthn-3 §6.1: rpIdHash (32 bytes), flags (1), signCount (4, big-endian). */
const COUNTER_OFFSET = 33;

it("the fixtures are all there", () => {
	expect(FIXTURES).toEqual(["chromium-platform-ed25519.json", "chromium-usb-es256.json", "software-none.json", "software-packed-self.json"]);
});

describe.each(FIXTURES)("%s", (name) => {
	const fixture = load(name);
	const rp = relyingParty(fixture);
	const assertion = fixture.authentication.response;
	const authenticatorData = () => bytes((assertion.response as { authenticatorData: string }).authenticatorData);

	async function registered(): Promise<RegisteredCredential> {
		const result = await checkRegistration(rp, fixture.registration.response, fixture.registration.challenge);
		if (!result.ok) throw new Error(`registration refused: ${result.reason}`);
		return result.credential;
	}
	async function check(credential: Record<string, unknown>, options: { challenge?: string; userHandle?: string } = {}) {
		const stored = await registered();
		return checkAssertion(rp, credential, options.challenge ?? fixture.authentication.challenge, {
			credentialId: stored.credentialId,
			publicKey: stored.publicKey,
			transports: stored.transports,
			userHandle: options.userHandle ?? fixture.userHandle,
		});
	}

	it("the registration is accepted as captured", async () => {
		const credential = await registered();
		expect(credential.credentialId).toBe(fixture.registration.response.id);
		expect(credential.userVerified).toBe(true);
	});

	it("the assertion is accepted as captured, with the counter it signed, which is past the registration's", async () => {
		const result = await check(assertion);
		expect(result).toEqual({ ok: true, newCounter: authenticatorData().readUInt32BE(COUNTER_OFFSET), userVerified: true });
		expect(isCounterRegression((await registered()).counter, authenticatorData().readUInt32BE(COUNTER_OFFSET))).toBe(false);
	});

	it("a response with fields of its own named ok and detail is checked like any other, not mistaken for a refusal", async () => {
		expect(await check(withResponse(assertion, { ok: false, detail: "from the client" }))).toMatchObject({ ok: true });
		const other = withResponse(withOtherOrigin(assertion), { ok: true, reason: "from the client" });
		expect(await check(other)).toMatchObject({ ok: false, reason: "origin_mismatch" });
	});

	it("one byte of the signature changed: bad_signature", async () => {
		const signature = (assertion.response as { signature: string }).signature;
		expect(await check(withResponse(assertion, { signature: flipByte(signature, (length) => length - 1) }))).toMatchObject({ ok: false, reason: "bad_signature" });
		expect(await check(withResponse(assertion, { signature: flipByte(signature, (length) => length - 10) }))).toMatchObject({ ok: false, reason: "bad_signature" });
	});

	it("the counter changed: a signed byte, so bad_signature; and presented again at the stored counter, a regression (R-WA-3)", async () => {
		const data = (assertion.response as { authenticatorData: string }).authenticatorData;
		expect(await check(withResponse(assertion, { authenticatorData: flipByte(data, () => COUNTER_OFFSET + 3) }))).toMatchObject({ ok: false, reason: "bad_signature" });
		const counter = authenticatorData().readUInt32BE(COUNTER_OFFSET);
		expect(isCounterRegression(counter, counter)).toBe(true);
	});

	it("one byte of the origin changed: origin_mismatch, in both ceremonies", async () => {
		expect(await check(withOtherOrigin(assertion))).toMatchObject({ ok: false, reason: "origin_mismatch" });
		expect(await checkRegistration(rp, withOtherOrigin(fixture.registration.response), fixture.registration.challenge)).toMatchObject({ ok: false, reason: "origin_mismatch" });
	});

	it("one byte of the challenge changed: challenge_mismatch, in both ceremonies, with no detail (it would quote the challenge)", async () => {
		const otherChallenge = flipByte(fixture.authentication.challenge, () => 0);
		expect(await check(assertion, { challenge: otherChallenge })).toEqual({ ok: false, reason: "challenge_mismatch" });
		expect(await checkRegistration(rp, fixture.registration.response, flipByte(fixture.registration.challenge, () => 0))).toEqual({ ok: false, reason: "challenge_mismatch" });
	});

	it("another rp id: rp_id_mismatch; another user handle: user_handle_mismatch when the response carries one", async () => {
		const otherRp = { ...rp, id: "example.com" };
		expect(await checkRegistration(otherRp, fixture.registration.response, fixture.registration.challenge)).toMatchObject({ ok: false, reason: "rp_id_mismatch" });
		const otherHandle = flipByte(fixture.userHandle, () => 0);
		const carriesHandle = typeof (assertion.response as { userHandle?: unknown }).userHandle === "string";
		// A non-resident key (the USB one) sends no user handle; the credential id alone names it.
		expect(await check(assertion, { userHandle: otherHandle })).toMatchObject(carriesHandle ? { ok: false, reason: "user_handle_mismatch" } : { ok: true });
	});
});

describe("software-packed-self.json: the registration's own signature", () => {
	const fixture = load("software-packed-self.json");

	it("one byte of the attestation statement's signature changed: bad_signature", async () => {
		const response = fixture.registration.response.response as { attestationObject: string };
		const attestation = bytes(response.attestationObject);
		// attStmt {"alg": -7, "sig": bstr}: the text key "sig" (0x63 's' 'i' 'g'), then a one-byte-length byte string (0x58 n).
		const at = attestation.indexOf(Buffer.from([0x63, 0x73, 0x69, 0x67, 0x58]));
		expect(at).toBeGreaterThan(0);
		const length = attestation[at + 5]!;
		attestation[at + 6 + length - 1]! ^= 0x01;
		const credential = withResponse(fixture.registration.response, { attestationObject: attestation.toString("base64url") });
		expect(await checkRegistration(relyingParty(fixture), credential, fixture.registration.challenge)).toMatchObject({ ok: false, reason: "bad_signature" });
	});
});
