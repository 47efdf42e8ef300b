/**
 * A DNS domain name as a WebAuthn relying-party id must be (WebAuthn-3 §5.1.3: a "valid domain string"): lowercase
 * ASCII labels of letters, digits and inner hyphens, each 1–63 long, at most 253 in all. An IPv4 address has the
 * same characters, so a name whose last label is all digits is refused: an IP address is never an rp id.
 * Internationalized names come in their A-label (xn--) form.
 */
export function isDomainName(value: string): boolean {
	if (value.length === 0 || value.length > 253) return false;
	const labels = value.split(".");
	if (!labels.every((label) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label))) return false;
	return !/^[0-9]+$/.test(labels[labels.length - 1]!);
}

/** An IPv4 or bracketed IPv6 host as URL.hostname spells it. */
export function isIPAddressHost(hostname: string): boolean {
	return hostname.startsWith("[") || /^[0-9]+(?:\.[0-9]+){3}$/.test(hostname);
}
