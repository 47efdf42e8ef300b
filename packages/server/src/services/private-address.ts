import { BlockList, isIP } from "node:net";

/**
 * Addresses a webhook must not reach unless the operator allows it (SSRF):
 * loopback, private (RFC 1918, RFC 4193), link-local (cloud metadata lives at
 * 169.254.169.254), shared CGNAT space, "this network", benchmarking,
 * multicast and reserved ranges, and IPv6 forms that embed an IPv4 address.
 * (Pure, but here rather than in core/: node:net's BlockList is the matcher.)
 */
const blocked = new BlockList();
for (const [network, prefix] of [
	["0.0.0.0", 8],
	["10.0.0.0", 8],
	["100.64.0.0", 10],
	["127.0.0.0", 8],
	["169.254.0.0", 16],
	["172.16.0.0", 12],
	["192.0.0.0", 24],
	["192.168.0.0", 16],
	["198.18.0.0", 15],
	["224.0.0.0", 4],
	["240.0.0.0", 4],
] as const) {
	blocked.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
	["::", 128],
	["::1", 128],
	["64:ff9b::", 96], // NAT64
	["fc00::", 7],
	["fe80::", 10],
	["ff00::", 8],
] as const) {
	blocked.addSubnet(network, prefix, "ipv6");
}

export function isPrivateAddress(address: string): boolean {
	const family = isIP(address);
	if (family === 4) return blocked.check(address, "ipv4");
	if (family === 6) {
		// IPv4-mapped (::ffff:a.b.c.d): judged as the IPv4 address. (A ::ffff:0:0/96 rule would also catch plain IPv4.)
		const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
		if (mapped !== null) return blocked.check(mapped[1]!, "ipv4");
		const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
		if (hexMapped !== null) {
			const [high, low] = [parseInt(hexMapped[1]!, 16), parseInt(hexMapped[2]!, 16)];
			return blocked.check(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, "ipv4");
		}
		return blocked.check(address, "ipv6");
	}
	return true; // not an address at all: refuse
}
