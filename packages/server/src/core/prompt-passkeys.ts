import { isDomainName, isIPAddressHost } from "./domain-name.js";

/** The part of a tenant's webauthn settings this check reads (contract/tenant-settings.ts WebAuthnSettings). */
export interface RelyingPartySettings {
	rp_id: string | null;
	/** Without it no ceremony runs at all (factors/webauthn/ceremony.ts), on the prompt or elsewhere. */
	rp_name: string | null;
	origins: readonly string[];
}

export interface PromptPasskeys {
	usable: boolean;
	/** When not usable: what to change, for the admin reading GET /v1/tenant. */
	reason?: string;
}

/**
 * Whether a WebAuthn ceremony can run on the hosted prompt, which is served from Twofold's public URL, not from the
 * application (issue 15). The browser runs it only when the rp_id is the page's host or a registrable suffix of it
 * (WebAuthn-3 §5.1.3; the prompt on 2fa.example.com with rp_id example.com), on a label boundary (badexample.com is
 * not covered by example.com), and Twofold checks the response's origin against the tenant's origins, so the public
 * URL's origin (scheme, host and port) must be among them. Without a public-suffix list, a registrable suffix is
 * approximated: a single label (a top-level domain) never covers another host.
 */
export function promptPasskeysUsable(settings: RelyingPartySettings, publicURL: string): PromptPasskeys {
	const rpId = settings.rp_id;
	if (rpId === null) return { usable: false, reason: "webauthn.rp_id is not set" };
	if (settings.rp_name === null) return { usable: false, reason: "webauthn.rp_name is not set" };
	if (!isDomainName(rpId)) return { usable: false, reason: `webauthn.rp_id "${rpId}" is not a domain name` };
	let url: URL;
	try {
		url = new URL(publicURL);
	} catch {
		return { usable: false, reason: "TWOFOLD_PUBLIC_URL is not a URL" };
	}
	const host = url.hostname;
	if (isIPAddressHost(host)) return { usable: false, reason: `the prompt is served on the IP address ${host}, which cannot be a WebAuthn relying party: set TWOFOLD_PUBLIC_URL to a domain name` };
	const loopbackName = host === "localhost" || host.endsWith(".localhost");
	if (url.protocol !== "https:" && !(url.protocol === "http:" && loopbackName)) {
		return { usable: false, reason: `browsers run WebAuthn only in a secure context: TWOFOLD_PUBLIC_URL must be https (http only for localhost), not ${url.protocol}` };
	}
	const covers = host === rpId || (rpId.includes(".") && host.endsWith(`.${rpId}`));
	if (!covers) return { usable: false, reason: `webauthn.rp_id "${rpId}" is neither the prompt's host "${host}" nor a registrable suffix of it` };
	const listed = settings.origins.some((origin) => {
		try {
			return new URL(origin).origin === url.origin;
		} catch {
			return false;
		}
	});
	if (!listed) return { usable: false, reason: `the prompt's origin ${url.origin} is not among webauthn.origins` };
	return { usable: true };
}
