/**
 * The security headers of every prompt page (issue 15, docs/UI.md): a strict CSP with the response's nonce for the
 * same-origin module scripts and nothing inline; forms may post only to Twofold, and to the application's redirect
 * origin, which the provider's redirect after a finished interaction leads to (browsers apply form-action to the
 * redirects that follow a form post); no framing; no referrer; no caching; HSTS when served over https.
 */
export function promptPageHeaders(options: { nonce: string; formTargets?: readonly string[]; https: boolean }): Record<string, string> {
	// Only origins (scheme://host[:port]) go in: a value with a space, ; or quote would add directives.
	const targets = (options.formTargets ?? []).filter((origin) => /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?$/.test(origin));
	const csp = [
		"default-src 'none'",
		`script-src 'nonce-${options.nonce}'`,
		"style-src 'self'",
		"img-src 'self' data:",
		`form-action 'self'${targets.map((t) => ` ${t}`).join("")}`,
		"frame-ancestors 'none'",
		"base-uri 'none'",
		"connect-src 'self'",
	].join("; ");
	const headers: Record<string, string> = {
		"content-security-policy": csp,
		"referrer-policy": "no-referrer",
		"x-content-type-options": "nosniff",
		"x-frame-options": "DENY",
		"cache-control": "no-store",
		"cross-origin-opener-policy": "same-origin",
	};
	if (options.https) headers["strict-transport-security"] = "max-age=31536000";
	return headers;
}
