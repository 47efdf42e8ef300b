import type { KoaContextWithOIDC } from "oidc-provider";

/**
 * The few pages oidc-provider renders itself (issue 15): its error page and the RP-initiated logout pages. Plain
 * HTML, every value escaped, no script, no style attribute, nothing from another origin, and a strict
 * Content-Security-Policy; the prompt's own pages (pages/) replace everything else.
 */
const CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const escapeHTML = (value: unknown): string =>
	String(value).replace(/[&<>"']/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char]!);

function page(ctx: KoaContextWithOIDC, title: string, body: string): void {
	ctx.set("content-security-policy", CSP);
	ctx.set("referrer-policy", "no-referrer");
	ctx.set("x-content-type-options", "nosniff");
	ctx.set("cache-control", "no-store");
	ctx.type = "html";
	ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHTML(title)}</title></head><body><main><h1>${escapeHTML(title)}</h1>${body}</main></body></html>`;
}

/** An error that cannot go back to the client (no valid redirect URI): the OAuth error code and description, escaped. */
export async function renderError(ctx: KoaContextWithOIDC, out: { error?: string; error_description?: string }, _error: Error): Promise<void> {
	page(
		ctx,
		"This sign-in request cannot continue",
		`<p>Go back to the application and start again.</p><dl><dt>error</dt><dd>${escapeHTML(out.error ?? "server_error")}</dd>${
			out.error_description === undefined ? "" : `<dt>error_description</dt><dd>${escapeHTML(out.error_description)}</dd>`
		}</dl>`,
	);
}

/** The logout confirmation: the provider's form (its own hidden fields, no script) and two plain buttons. */
export async function logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
	page(
		ctx,
		"Sign out",
		`${form}<p>Twofold keeps no sign-in session; this only returns you to the application.</p><button type="submit" form="op.logoutForm" value="yes" name="logout">Continue</button>`,
	);
}

export async function postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
	page(ctx, "Signed out", "<p>You can close this page.</p>");
}
