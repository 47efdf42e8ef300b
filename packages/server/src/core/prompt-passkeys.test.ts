import { describe, expect, it } from "vitest";
import { promptPasskeysUsable } from "./prompt-passkeys.js";

const rp = (rp_id: string | null, origins: string[]) => ({ rp_id, rp_name: "Example", origins });

describe("promptPasskeysUsable: can the hosted prompt run WebAuthn with these settings (issue 15, WebAuthn-3 §5.1.3)", () => {
	it("is usable when rp_id is the prompt's host, or a registrable suffix of it, and the prompt's origin is listed", () => {
		expect(promptPasskeysUsable(rp("2fa.example.com", ["https://2fa.example.com"]), "https://2fa.example.com")).toEqual({ usable: true });
		expect(promptPasskeysUsable(rp("example.com", ["https://example.com", "https://2fa.example.com"]), "https://2fa.example.com")).toEqual({ usable: true });
		// Deeper subdomains are covered too, and a path in the public URL does not matter (the origin does).
		expect(promptPasskeysUsable(rp("example.com", ["https://a.b.example.com"]), "https://a.b.example.com/twofold")).toEqual({ usable: true });
		expect(promptPasskeysUsable(rp("localhost", ["http://localhost:3000"]), "http://localhost:3000")).toEqual({ usable: true });
	});

	it("is not usable without an rp_id", () => {
		expect(promptPasskeysUsable(rp(null, []), "https://2fa.example.com")).toEqual({ usable: false, reason: "webauthn.rp_id is not set" });
	});

	it("is not usable without an rp_name, which every ceremony needs", () => {
		const settings = { ...rp("example.com", ["https://2fa.example.com"]), rp_name: null };
		expect(promptPasskeysUsable(settings, "https://2fa.example.com")).toEqual({ usable: false, reason: "webauthn.rp_name is not set" });
	});

	it("compares on a label boundary: example.com does not cover badexample.com, nor the other way", () => {
		const bad = promptPasskeysUsable(rp("example.com", ["https://badexample.com"]), "https://badexample.com");
		expect(bad.usable).toBe(false);
		expect(bad.reason).toMatch(/neither the prompt's host "badexample.com" nor a registrable suffix/);
		expect(promptPasskeysUsable(rp("badexample.com", ["https://badexample.com"]), "https://example.com").usable).toBe(false);
		// A suffix of the string that is not a suffix of labels.
		expect(promptPasskeysUsable(rp("ample.com", ["https://2fa.example.com"]), "https://2fa.example.com").usable).toBe(false);
		// The rp_id is a subdomain of the prompt's host: it does not cover the host.
		expect(promptPasskeysUsable(rp("app.example.com", ["https://app.example.com"]), "https://example.com").usable).toBe(false);
	});

	it("never treats a top-level domain as a registrable suffix", () => {
		const tld = promptPasskeysUsable(rp("com", ["https://2fa.example.com"]), "https://2fa.example.com");
		expect(tld.usable).toBe(false);
	});

	it("refuses IP addresses, as prompt host or as rp_id", () => {
		const v4 = promptPasskeysUsable(rp("127.0.0.1", ["http://127.0.0.1:3000"]), "http://127.0.0.1:3000");
		expect(v4.usable).toBe(false);
		expect(v4.reason).toMatch(/not a domain name/);
		const hostIP = promptPasskeysUsable(rp("example.com", ["https://example.com"]), "https://192.0.2.10");
		expect(hostIP).toMatchObject({ usable: false, reason: expect.stringMatching(/IP address 192\.0\.2\.10/) });
		expect(promptPasskeysUsable(rp("example.com", ["https://example.com"]), "https://[2001:db8::1]:8443").usable).toBe(false);
		// An address whose last octet looks like a name's label is still refused as an rp_id.
		expect(promptPasskeysUsable(rp("10.0.0.1", []), "https://10.0.0.1").usable).toBe(false);
	});

	it("needs the prompt's exact origin, port included, among the tenant's origins", () => {
		const port = promptPasskeysUsable(rp("example.com", ["https://2fa.example.com"]), "https://2fa.example.com:8443");
		expect(port).toEqual({ usable: false, reason: "the prompt's origin https://2fa.example.com:8443 is not among webauthn.origins" });
		expect(promptPasskeysUsable(rp("example.com", ["https://2fa.example.com:8443"]), "https://2fa.example.com:8443").usable).toBe(true);
		// The default port is the same origin, however written.
		expect(promptPasskeysUsable(rp("example.com", ["https://2fa.example.com"]), "https://2fa.example.com:443").usable).toBe(true);
		expect(promptPasskeysUsable(rp("example.com", ["https://app.example.com"]), "https://2fa.example.com").usable).toBe(false);
		expect(promptPasskeysUsable(rp("localhost", ["http://localhost:3000"]), "http://localhost:3001").usable).toBe(false);
	});

	it("needs a secure context: https, or http on localhost only", () => {
		const plain = promptPasskeysUsable(rp("example.com", ["http://2fa.example.com"]), "http://2fa.example.com");
		expect(plain).toMatchObject({ usable: false, reason: expect.stringMatching(/secure context/) });
		expect(promptPasskeysUsable(rp("example.com", ["https://2fa.example.com"]), "not a url")).toEqual({ usable: false, reason: "TWOFOLD_PUBLIC_URL is not a URL" });
		// Names under .localhost are loopback too (RFC 6761 §6.3), so http is a secure context there.
		expect(promptPasskeysUsable(rp("app.localhost", ["http://app.localhost:3000"]), "http://app.localhost:3000")).toEqual({ usable: true });
		expect(promptPasskeysUsable(rp("localhost.example.com", ["http://localhost.example.com"]), "http://localhost.example.com").usable).toBe(false);
		// On localhost, only http besides https: another scheme is no secure context even when it is listed.
		expect(promptPasskeysUsable(rp("localhost", ["ws://localhost:3000"]), "ws://localhost:3000")).toEqual({
			usable: false,
			reason: "browsers run WebAuthn only in a secure context: TWOFOLD_PUBLIC_URL must be https (http only for localhost), not ws:",
		});
	});

	it("skips a tenant origin that is not a URL and reads the others", () => {
		expect(promptPasskeysUsable(rp("example.com", ["not a url", "https://2fa.example.com"]), "https://2fa.example.com")).toEqual({ usable: true });
		expect(promptPasskeysUsable(rp("example.com", ["not a url"]), "https://2fa.example.com")).toEqual({
			usable: false,
			reason: "the prompt's origin https://2fa.example.com is not among webauthn.origins",
		});
	});
});
