import { describe, expect, it } from "vitest";
import { isPrivateAddress } from "./private-address.js";

describe("private addresses (webhook SSRF guard)", () => {
	it("refuses loopback, private, link-local, CGNAT, multicast and embedded forms", () => {
		for (const address of ["127.0.0.1", "127.1.2.3", "10.0.0.5", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.1.2.3", "64:ff9b::a00:1", "not-an-ip"]) {
			expect(isPrivateAddress(address), address).toBe(true);
		}
	});
	it("allows public addresses", () => {
		for (const address of ["93.184.215.14", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:93.184.215.14", "::ffff:5db8:d70e"]) {
			expect(isPrivateAddress(address), address).toBe(false);
		}
	});
});
