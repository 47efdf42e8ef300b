/**
 * The IANA special-purpose address registries, vendored as CSV in the registries' own column layout, so the SSRF
 * guard (private-address.ts) is compiled from them and its test iterates every row.
 *
 * Sources:
 *   https://www.iana.org/assignments/iana-ipv4-special-registry/iana-ipv4-special-registry-1.csv
 *   https://www.iana.org/assignments/iana-ipv6-special-registry/iana-ipv6-special-registry-1.csv
 * Registry state: as of the last updates that added RFC 9665 (2001:1::3/128, 2024-04), RFC 9602 (5f00::/16,
 * 2024-04) and RFC 9637 (3fff::/20, 2024-07) to the IPv6 registry, and RFC 8880 (192.0.0.170-171, 2020-08) to the
 * IPv4 registry. Transcribed by hand on 2026-11-29: this build host reaches no IANA server, so the files could not
 * be downloaded. Footnote markers ([1] …) are kept as in the registry; the footnotes are below each table.
 * When updating: replace the CSV text with the downloaded file and rerun private-address.test.ts, which checks every
 * row; an added row that is not globally reachable is refused without a code change.
 */

export const IANA_IPV4_SPECIAL_REGISTRY_UPDATED = "2020-08 (RFC 8880 row); transcribed 2026-11-29";
export const IANA_IPV6_SPECIAL_REGISTRY_UPDATED = "2024-07 (RFC 9637 row); transcribed 2026-11-29";

/*
 * IPv4 footnotes:
 * [1] Several protocols have been granted exceptions to this rule. For examples, see [RFC4379] and [RFC5884].
 * [2] Not useable unless by virtue of a more specific reservation.
 */
export const IANA_IPV4_SPECIAL_REGISTRY_CSV = `Address Block,Name,RFC,Allocation Date,Termination Date,Source,Destination,Forwardable,Globally Reachable,Reserved-by-Protocol
0.0.0.0/8,"""This network""","[RFC791], Section 3.2",1981-09,N/A,True,False,False,False,True
0.0.0.0/32,"""This host on this network""","[RFC1122], Section 3.2.1.3",1981-09,N/A,True,False,False,False,True
10.0.0.0/8,Private-Use,[RFC1918],1996-02,N/A,True,True,True,False,False
100.64.0.0/10,Shared Address Space,[RFC6598],2012-04,N/A,True,True,True,False,False
127.0.0.0/8,Loopback,"[RFC1122], Section 3.2.1.3",1981-09,N/A,False [1],False [1],False [1],False [1],True
169.254.0.0/16,Link Local,[RFC3927],2005-05,N/A,True,True,False,False,True
172.16.0.0/12,Private-Use,[RFC1918],1996-02,N/A,True,True,True,False,False
192.0.0.0/24 [2],IETF Protocol Assignments,"[RFC6890], Section 2.1",2010-01,N/A,False,False,False,False,False
192.0.0.0/29,IPv4 Service Continuity Prefix,[RFC7335],2011-06,N/A,True,True,True,False,False
192.0.0.8/32,IPv4 dummy address,[RFC7600],2015-03,N/A,True,False,False,False,False
192.0.0.9/32,Port Control Protocol Anycast,[RFC7723],2015-10,N/A,True,True,True,True,False
192.0.0.10/32,Traversal Using Relays around NAT Anycast,[RFC8155],2017-02,N/A,True,True,True,True,False
"192.0.0.170/32, 192.0.0.171/32",NAT64/DNS64 Discovery,"[RFC8880][RFC7050], Section 2.2",2013-02,N/A,False,False,False,False,True
192.0.2.0/24,Documentation (TEST-NET-1),[RFC5737],2010-01,N/A,False,False,False,False,False
192.31.196.0/24,AS112-v4,[RFC7535],2014-12,N/A,True,True,True,True,False
192.52.193.0/24,AMT,[RFC7450],2014-12,N/A,True,True,True,True,False
192.88.99.0/24,Deprecated (6to4 Relay Anycast),[RFC7526],2001-06,2015-03,,,,,
192.88.99.2/32,6a44-relay anycast address,[RFC6751],2012-10,N/A,True,True,True,False,False
192.168.0.0/16,Private-Use,[RFC1918],1996-02,N/A,True,True,True,False,False
192.175.48.0/24,Direct Delegation AS112 Service,[RFC7534],1996-01,N/A,True,True,True,True,False
198.18.0.0/15,Benchmarking,[RFC2544],1999-03,N/A,True,True,True,False,False
198.51.100.0/24,Documentation (TEST-NET-2),[RFC5737],2010-01,N/A,False,False,False,False,False
203.0.113.0/24,Documentation (TEST-NET-3),[RFC5737],2010-01,N/A,False,False,False,False,False
240.0.0.0/4,Reserved,"[RFC1112], Section 4",1989-08,N/A,False,False,False,False,True
255.255.255.255/32,Limited Broadcast,"[RFC8190][RFC919], Section 7",1984-10,N/A,False,True,False,False,True
`;

/*
 * IPv6 footnotes:
 * [1] Unless allowed by a more specific allocation.
 * [2] See Section 5 of [RFC4380] for details.
 * [3] See [RFC3056] for details.
 * [4] See [RFC4193] for details.
 */
export const IANA_IPV6_SPECIAL_REGISTRY_CSV = `Address Block,Name,RFC,Allocation Date,Termination Date,Source,Destination,Forwardable,Globally Reachable,Reserved-by-Protocol
::1/128,Loopback Address,[RFC4291],2006-02,N/A,False,False,False,False,True
::/128,Unspecified Address,[RFC4291],2006-02,N/A,True,False,False,False,True
::ffff:0:0/96,IPv4-mapped Address,[RFC4291],2006-02,N/A,False,False,False,False,True
64:ff9b::/96,IPv4-IPv6 Translat.,[RFC6052],2010-10,N/A,True,True,True,True,False
64:ff9b:1::/48,IPv4-IPv6 Translat.,[RFC8215],2017-06,N/A,True,True,True,False,False
100::/64,Discard-Only Address Block,[RFC6666],2012-06,N/A,True,True,True,False,False
2001::/23,IETF Protocol Assignments,[RFC2928],2000-09,N/A,False [1],False [1],False [1],False [1],False
2001::/32,TEREDO,"[RFC4380][RFC8190]",2006-01,N/A,True,True,True,N/A [2],False
2001:1::1/128,Port Control Protocol Anycast,[RFC7723],2015-10,N/A,True,True,True,True,False
2001:1::2/128,Traversal Using Relays around NAT Anycast,[RFC8155],2017-02,N/A,True,True,True,True,False
2001:1::3/128,DNS-SD Service Registration Protocol Anycast Address,[RFC9665],2024-04,N/A,True,True,True,True,False
2001:2::/48,Benchmarking,[RFC5180][RFC Errata 1752],2008-04,N/A,True,True,True,False,False
2001:3::/32,AMT,[RFC7450],2014-12,N/A,True,True,True,True,False
2001:4:112::/48,AS112-v6,[RFC7535],2014-12,N/A,True,True,True,True,False
2001:10::/28,Deprecated (previously ORCHID),[RFC4843],2007-03,2014-03,,,,,
2001:20::/28,ORCHIDv2,[RFC7343],2014-07,N/A,True,True,True,True,False
2001:30::/28,Drone Remote ID Protocol Entity Tags (DETs) Prefix,[RFC9374],2022-12,N/A,True,True,True,True,False
2001:db8::/32,Documentation,[RFC3849],2004-07,N/A,False,False,False,False,False
2002::/16 [3],6to4,[RFC3056],2001-02,N/A,True,True,True,N/A [3],False
2620:4f:8000::/48,Direct Delegation AS112 Service,[RFC7534],2011-05,N/A,True,True,True,True,False
3fff::/20,Documentation,[RFC9637],2024-07,N/A,False,False,False,False,False
5f00::/16,Segment Routing (SRv6) SIDs,[RFC9602],2024-04,N/A,True,True,True,False,False
fc00::/7,Unique-Local,[RFC4193][RFC8190],2005-10,N/A,True,True,True,False [4],False
fe80::/10,Link-Local Unicast,[RFC4291],2006-02,N/A,True,True,False,False,True
`;

export interface RegistryRow {
	/** The address blocks of the row, without footnote markers (one row of the IPv4 registry lists two). */
	readonly blocks: readonly string[];
	readonly name: string;
	readonly rfc: string;
	/** The "Globally Reachable" column without its footnote: "True", "False", "N/A", or "" for a terminated row. */
	readonly globallyReachable: string;
	readonly terminated: boolean;
}

const stripFootnote = (field: string): string => field.replace(/\s*\[\d+\]\s*$/, "").trim();

/** RFC 4180 fields of one line (quoted fields, doubled quotes); the registries have no line breaks inside fields. */
function csvFields(line: string): string[] {
	const fields: string[] = [];
	let field = "";
	let quoted = false;
	for (let i = 0; i < line.length; i++) {
		const c = line[i]!;
		if (quoted) {
			if (c === '"' && line[i + 1] === '"') (field += '"'), i++;
			else if (c === '"') quoted = false;
			else field += c;
		} else if (c === '"') quoted = true;
		else if (c === ",") fields.push(field), (field = "");
		else field += c;
	}
	fields.push(field);
	return fields;
}

export function parseRegistry(csv: string): RegistryRow[] {
	const [header, ...lines] = csv.trim().split("\n");
	const columns = csvFields(header!);
	const at = (name: string) => {
		const index = columns.indexOf(name);
		if (index < 0) throw new Error(`special-purpose registry: no column ${name}`);
		return index;
	};
	const [block, name, rfc, termination, reachable] = ["Address Block", "Name", "RFC", "Termination Date", "Globally Reachable"].map(at) as [number, number, number, number, number];
	return lines.map((line) => {
		const fields = csvFields(line);
		return {
			blocks: fields[block]!.split(",").map(stripFootnote),
			name: fields[name]!,
			rfc: fields[rfc]!,
			globallyReachable: stripFootnote(fields[reachable] ?? ""),
			terminated: (fields[termination] ?? "N/A") !== "N/A" && fields[termination] !== "",
		};
	});
}
