import type { Locale, MessageKey, Translate } from "./i18n.js";

/**
 * What every prompt page is rendered from: plain data gathered by the route (http/routes/prompt-pages.ts).
 * Pages do no I/O and never build HTML from strings: preact-render-to-string escapes every text and attribute.
 */
export interface PageContext {
	locale: Locale;
	t: Translate;
	/** Per response; on every script tag, matching the Content-Security-Policy's script-src. */
	nonce: string;
	tenant: { name: string; logoUrl: string | null };
	client: { name: string; logoUrl: string | null };
	/** Where this interaction's pages live: `${issuerPath}/interaction/${uid}`. */
	base: string;
	/** The synchronizer token every form posts back (http/routes/prompt-session.ts). */
	csrf: string;
	/** The stylesheets (the shared one, then the tenant's colour) and the scripts, all same-origin. */
	assets: { stylesheet: string; theme: string | null; script: string; passkeyScript: string };
}

/** An error shown in the summary at the top and beside its field (the field's id), GOV.UK style. */
export interface FieldError {
	field: string | null;
	key: MessageKey;
	values?: Record<string, string | number>;
}

/** A factor as the pages show it: from services.factors.list (contract Factor), times as ms. */
export interface FactorView {
	id: string;
	type: "totp" | "hotp" | "webauthn";
	status: "active" | "pending";
	label: string;
	createdAt: number;
	lastUsedAt: number | null;
}

/** A WebAuthn ceremony the page's module runs: the options Twofold made, and for authentication the challenge id. */
export interface PasskeyCeremony {
	options: unknown;
	challengeId: string | null;
}

/** The action to approve, as the application described it (shown as text, labelled as the application's). */
export interface ActionView {
	description: string;
}
