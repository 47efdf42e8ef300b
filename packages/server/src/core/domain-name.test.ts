import { describe, expect, it } from "vitest";
import { isDomainName, isIPAddressHost } from "./domain-name.js";

describe("isDomainName: what an rp_id may be", () => {
	it("takes lowercase names, localhost and A-labels", () => {
		for (const name of ["example.com", "localhost", "a.b-c.example", "xn--bcher-kva.example", `${"a".repeat(63)}.com`]) expect(isDomainName(name), name).toBe(true);
	});
	it("refuses addresses, empty or over-long labels, edge hyphens, upper case, ports and schemes", () => {
		for (const name of ["127.0.0.1", "10.0.0.1", "1.2.3.4", "", "example..com", ".example.com", "example.com.", "-a.com", "a-.com", "Example.com", "example.com:443", "https://example.com", `${"a".repeat(64)}.com`, "a".repeat(254), "::1"]) {
			expect(isDomainName(name), name).toBe(false);
		}
	});
	it("takes 253 characters in all and refuses 254, whatever the labels (WebAuthn-3 §5.1.3, RFC 1035 §2.3.4)", () => {
		const label = "a".repeat(63);
		expect(isDomainName(`${label}.${label}.${label}.${"b".repeat(61)}`)).toBe(true);
		expect(isDomainName(`${label}.${label}.${label}.${"b".repeat(62)}`)).toBe(false);
	});
	it("refuses a last label of digits only, of any length, and takes one that merely holds digits", () => {
		for (const name of ["192.0.2.10", "example.123", "42"]) expect(isDomainName(name), name).toBe(false);
		for (const name of ["host.web3", "example.4u", "2fa.example.com", "a1"]) expect(isDomainName(name), name).toBe(true);
	});
});

describe("isIPAddressHost: an IP address as URL.hostname spells it", () => {
	const hostname = (url: string) => new URL(url).hostname;
	it("recognizes IPv4 and bracketed IPv6 hosts", () => {
		for (const url of ["https://192.0.2.10", "https://127.0.0.1:8443", "https://[2001:db8::1]:8443", "http://[::1]", "https://0x7f.1"]) expect(isIPAddressHost(hostname(url)), url).toBe(true);
	});
	it("does not take a domain name that starts like an address (nip.io-style names) for one", () => {
		for (const url of ["https://1.2.3.4.nip.io", "https://10.0.0.1.example.com", "https://2fa.example.com", "http://localhost"]) expect(isIPAddressHost(hostname(url)), url).toBe(false);
	});
});
