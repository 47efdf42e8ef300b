import { IANA_IPV4_SPECIAL_REGISTRY_CSV, IANA_IPV6_SPECIAL_REGISTRY_CSV, parseRegistry } from "./iana-special-registry.js";

/**
 * Where a webhook may connect (SSRF guard): only globally reachable unicast addresses, unless the operator allows
 * private destinations. Pure (no I/O), compiled once from the vendored IANA special-purpose registries.
 *
 * Refused:
 *  - every block the IANA IPv4 and IPv6 special-purpose registries mark as not globally reachable ("False", "N/A",
 *    or a terminated row), including a more specific "True" row inside such a block (192.0.0.9/32 inside
 *    192.0.0.0/24, 2001:1::1/128 inside 2001::/23: anycast relays and identifiers are not webhook receivers);
 *  - IPv4 multicast 224.0.0.0/4 (RFC 5771), which the special-purpose registry does not list;
 *  - the transition ranges, outright: 6to4 2002::/16 (RFC 3056) and its relay anycast 192.88.99.0/24 (RFC 7526),
 *    Teredo 2001::/32 (RFC 4380: the embedded server and client addresses are obfuscated, so they cannot be
 *    checked), and the local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215);
 *  - every IPv6 address outside global unicast 2000::/3 (RFC 4291 §2.4, IANA IPv6 address space: all else is
 *    multicast ff00::/8, link-local, unique-local, deprecated site-local fec0::/10 (RFC 3879), discard 100::/64,
 *    SRv6 SIDs, or reserved by the IETF). This refuses the whole class of IPv6 forms that embed an IPv4 address
 *    below ::/8 (IPv4-compatible ::a.b.c.d, deprecated by RFC 4291 §2.5.5.1; IPv4-translated ::ffff:0:a.b.c.d,
 *    RFC 2765) except the two decoded below;
 *  - an address with a zone index (fe80::1%eth0): a zone only means something for a non-global scope (RFC 6874);
 *  - anything that is not an IP address in canonical text form.
 * Decoded and judged as the IPv4 address they carry: IPv4-mapped ::ffff:a.b.c.d (RFC 4291 §2.5.5.2), which the
 * kernel connects to as IPv4, and the well-known NAT64 prefix 64:ff9b::/96 (RFC 6052 §2.1), which a NAT64
 * gateway translates to the embedded IPv4 address.
 */

export type AddressVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

interface Range {
	readonly network: bigint;
	readonly prefix: number;
	readonly reason: string;
}

/** A strict dotted quad (decimal octets, no leading zeros: the form URL and DNS answers give) as a 32-bit value. */
export function parseIPv4(text: string): bigint | undefined {
	const parts = text.split(".");
	if (parts.length !== 4) return undefined;
	let value = 0n;
	for (const part of parts) {
		if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return undefined;
		value = (value << 8n) | BigInt(part);
	}
	return value;
}

/** RFC 4291 §2.2 text (with "::" and an optional trailing dotted quad) as a 128-bit value; no zone index. */
export function parseIPv6(text: string): bigint | undefined {
	if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
	let body = text;
	const lastColon = body.lastIndexOf(":");
	if (body.slice(lastColon + 1).includes(".")) {
		// A trailing dotted quad (::ffff:1.2.3.4) stands for the last two groups.
		const v4 = parseIPv4(body.slice(lastColon + 1));
		if (v4 === undefined) return undefined;
		body = `${body.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
	}
	const halves = body.split("::");
	if (halves.length > 2) return undefined;
	const groups = (half: string): bigint[] | undefined => {
		if (half === "") return [];
		const out: bigint[] = [];
		for (const group of half.split(":")) {
			if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
			out.push(BigInt(`0x${group}`));
		}
		return out;
	};
	const head = groups(halves[0]!);
	const rest = halves.length === 2 ? groups(halves[1]!) : [];
	if (head === undefined || rest === undefined) return undefined;
	const explicit = head.length + rest.length;
	let all: bigint[];
	if (halves.length === 2) {
		if (explicit > 7) return undefined; // "::" stands for at least one zero group
		all = [...head, ...Array<bigint>(8 - explicit).fill(0n), ...rest];
	} else {
		if (explicit !== 8) return undefined;
		all = head;
	}
	return all.reduce((value, group) => (value << 16n) | group, 0n);
}

function range(block: string, bits: 32 | 128, reason: string): Range {
	const [address, prefixText] = block.split("/");
	const network = bits === 32 ? parseIPv4(address!) : parseIPv6(address!);
	const prefix = Number(prefixText);
	if (network === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > bits) throw new Error(`bad address block ${block}`);
	return { network, prefix, reason };
}

function within(value: bigint, r: Range, bits: 32 | 128): boolean {
	const shift = BigInt(bits - r.prefix);
	return value >> shift === r.network >> shift;
}

/** The registry rows this guard refuses: not "True" in the Globally Reachable column. */
function refusedRows(csv: string, bits: 32 | 128): Range[] {
	return parseRegistry(csv)
		.filter((row) => row.globallyReachable !== "True" || row.terminated)
		.flatMap((row) => row.blocks.map((block) => range(block, bits, `${block} ${row.name} ${row.rfc}: not globally reachable (IANA special-purpose registry)`)));
}

const IPV4_REFUSED: readonly Range[] = [
	...refusedRows(IANA_IPV4_SPECIAL_REGISTRY_CSV, 32),
	range("224.0.0.0/4", 32, "224.0.0.0/4 multicast (RFC 5771)"),
	range("192.88.99.0/24", 32, "192.88.99.0/24 6to4 relay anycast (RFC 7526): a transition range"),
];

const IPV4_MAPPED = range("::ffff:0:0/96", 128, "IPv4-mapped (RFC 4291 §2.5.5.2)");
const NAT64_WELL_KNOWN = range("64:ff9b::/96", 128, "NAT64 well-known prefix (RFC 6052)");
const GLOBAL_UNICAST = range("2000::/3", 128, "global unicast");
const IPV6_REFUSED: readonly Range[] = [
	range("2002::/16", 128, "2002::/16 6to4 (RFC 3056): a transition range, refused outright"),
	range("2001::/32", 128, "2001::/32 Teredo (RFC 4380): a transition range whose embedded address is obfuscated"),
	range("64:ff9b:1::/48", 128, "64:ff9b:1::/48 local-use NAT64 (RFC 8215): a transition range"),
	...refusedRows(IANA_IPV6_SPECIAL_REGISTRY_CSV, 128).filter((r) => r.network !== IPV4_MAPPED.network || r.prefix !== IPV4_MAPPED.prefix),
];

function judgeIPv4(value: bigint, via = ""): AddressVerdict {
	const hit = IPV4_REFUSED.find((r) => within(value, r, 32));
	return hit === undefined ? { allowed: true } : { allowed: false, reason: via + hit.reason };
}

function judgeIPv6(value: bigint): AddressVerdict {
	if (within(value, IPV4_MAPPED, 128)) return judgeIPv4(value & 0xffffffffn, "IPv4-mapped: ");
	if (within(value, NAT64_WELL_KNOWN, 128)) return judgeIPv4(value & 0xffffffffn, "NAT64 64:ff9b::/96: ");
	const hit = IPV6_REFUSED.find((r) => within(value, r, 128));
	if (hit !== undefined) return { allowed: false, reason: hit.reason };
	if (!within(value, GLOBAL_UNICAST, 128)) return { allowed: false, reason: "outside global unicast 2000::/3 (RFC 4291 §2.4)" };
	return { allowed: true };
}

/** Whether a webhook may connect to this address (textual IPv4 or IPv6, as DNS answers and URL hosts give). */
export function judgeAddress(text: string): AddressVerdict {
	if (text.includes("%")) return { allowed: false, reason: "zone index: not a global address (RFC 6874)" };
	const v4 = parseIPv4(text);
	if (v4 !== undefined) return judgeIPv4(v4);
	const v6 = text.includes(":") ? parseIPv6(text) : undefined;
	if (v6 !== undefined) return judgeIPv6(v6);
	return { allowed: false, reason: "not an IP address" };
}

export function isPrivateAddress(address: string): boolean {
	return !judgeAddress(address).allowed;
}
