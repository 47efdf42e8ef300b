import { randomBytes } from "node:crypto";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { ComponentChildren } from "preact";
import { ServiceError } from "../../contract/service-error.js";
import type { PromptInteractions, PromptOutcome, PromptRequest } from "../../oidc/prompt-interaction.js";
import { AppSetupPage, EnrollChoicePage, PasskeySetupPage } from "../../pages/enroll-page.js";
import { chooseLocale, translator, type Locale, type MessageKey } from "../../pages/i18n.js";
import { renderDocument } from "../../pages/layout.js";
import { LostAccessPage } from "../../pages/lost-access-page.js";
import { ChangeProofPage, ManagePage } from "../../pages/manage-page.js";
import { RecoveryCodesPage, recoveryCodesText } from "../../pages/recovery-codes-page.js";
import { renderStopPage } from "../../pages/stop-page.js";
import { VerifyPage, type EmailOffer } from "../../pages/verify-page.js";
import type { FactorView, FieldError, PageContext, PasskeyCeremony } from "../../pages/view.js";
import { ACR } from "../../core/assertion-contract.js";
import { promptPasskeysUsable } from "../../core/prompt-passkeys.js";
import { normalizeRecoveryCode } from "../../core/recovery-codes.js";
import { isFactorLabel } from "../../contract/schemas/factors.js";
import { acrAccepted } from "../../oidc/authorization-request.js";
import { EMAIL_CODE_TTL_MS } from "../../services/email-codes.js";
import type { Services } from "../../services/services.js";
import type { TenantContext } from "../../services/tenant-context.js";
import { promptPageHeaders } from "../prompt-headers.js";
import { csrfMatches, csrfToken, newCookieValue, openState, promptCookieHeader, readPromptCookie, sealState, sessionIdHash, type SealedColumn } from "../prompt-session.js";
import { PROMPT_ASSETS } from "./prompt-assets.js";

/**
 * The hosted prompt's pages (issue 15): GET and POST under /t/:tenant/interaction/:uid. Every proof, enrollment and
 * change goes through the same services as the API (services.verifications.verify, services.factors.*,
 * services.recoveryCodes.regenerate, services.challenges.createWebAuthn), so the attempt budget, lockout,
 * exactly-once codes, events and webhooks apply; nothing is decided here but which page comes next. The interaction
 * itself (who the user is, which application, what action) comes from PromptInteractions (oidc/prompt-interaction.ts)
 * and ends there.
 */
export interface PromptPageOptions {
	interactions: PromptInteractions;
	/**
	 * TWOFOLD_PUBLIC_URL, or the address the server listens at when it is not set (read per request: the address is
	 * known only once listening). Its origin decides HSTS and whether the tenant's relying party covers the prompt.
	 */
	publicUrl: () => string;
}

type PromptTenantSettings = TenantContext["settings"];

/** How long a proof on this interaction lets the user manage factors and add one (GitHub's sudo mode, shorter). */
export const FRESH_PROOF_MS = 5 * 60_000;
/** A session row lives at most this long; the interaction (oidc-provider's) usually ends sooner. */
const SESSION_TTL_MS = 60 * 60_000;
const MAX_LABEL = 64;

type Form = Record<string, string>;
/** A prompt_sessions row, as the store's repository gives it (http reaches the store only through services). */
type PromptSessionTable = NonNullable<Awaited<ReturnType<Services["deps"]["store"]["promptSessions"]["find"]>>>;
type Params = { tenant: string; uid: string };

interface Enrollment {
	kind: "totp" | "webauthn";
	factorId: string;
	secret?: string;
	qrSvg?: string;
	issuer?: string;
	account?: string;
	options?: unknown;
}
interface Proof {
	assertion: string;
	method: string;
}

/** Whether passkeys can run on the prompt: the tenant's relying party is complete and covers the prompt's origin. */
const passkeysUsableAt = (webauthn: TenantContext["settings"]["webauthn"], publicUrl: string): boolean => promptPasskeysUsable(webauthn, publicUrl).usable;

/** The acr a proof of each kind ends with (core/assertion-claims.ts acrFor), for the application's acr_values. */
const ACR_OF: Record<FactorView["type"] | "recovery_code", string> = { webauthn: ACR.phishingResistant, totp: ACR.otp, hotp: ACR.otp, recovery_code: ACR.recoveryCode };

const ORDER: Record<FactorView["type"], number> = { webauthn: 0, totp: 1, hotp: 2 };

/** Passkeys first (the strongest and one tap), then apps, then tokens; oldest first within a kind. */
export function orderFactors(factors: readonly FactorView[]): FactorView[] {
	return [...factors].sort((a, b) => ORDER[a.type] - ORDER[b.type] || a.createdAt - b.createdAt);
}

/** A user-facing error for a service's refusal, on the field it is about; undefined for what the page cannot explain. */
export function fieldErrorFor(error: unknown, field: string | null, client: string, recovery = false): FieldError | undefined {
	if (!(error instanceof ServiceError)) return undefined;
	const seconds = Math.max(1, error.retryAfterSeconds ?? 30);
	switch (error.code) {
		case "invalid_code":
			return { field, key: recovery ? "error.invalid_recovery_code" : "error.invalid_code" };
		case "invalid_assertion":
		case "proof_required":
			return { field: null, key: "error.no_proof_left" };
		case "too_many_attempts":
			return { field, key: "error.too_many_attempts", values: { seconds } };
		case "rate_limited":
			return { field: null, key: "error.rate_limited", values: { seconds } };
		case "locked":
			return { field: null, key: "error.locked", values: { client } };
		case "insufficient_proof":
			return { field, key: "error.insufficient_proof" };
		case "invalid_credential":
			return { field: null, key: "error.invalid_credential" };
		case "credential_exists":
			return { field: null, key: "error.credential_exists" };
		case "factor_expired":
			return { field: null, key: "error.factor_expired" };
		case "too_many_pending_factors":
			return { field: null, key: "error.too_many_pending" };
		case "factor_not_found":
		case "factor_not_pending":
			return { field: null, key: "error.not_found" };
		case "too_many_emails":
			return { field: null, key: "error.too_many_emails", values: { minutes: Math.ceil(seconds / 60) } };
		case "email_not_sent":
			return { field: null, key: "error.email_not_sent" };
		case "email_not_enabled":
		case "email_not_configured":
			return { field: null, key: "error.email_unavailable" };
		case "webauthn_not_configured":
		case "no_webauthn_factor":
		case "attestation_not_configured":
			return { field: null, key: "error.passkey_unavailable" };
		default:
			return undefined;
	}
}

const STATUS: Partial<Record<string, number>> = { too_many_attempts: 429, rate_limited: 429, too_many_emails: 429, locked: 423, email_not_sent: 503 };
const statusFor = (error: unknown): number => (error instanceof ServiceError ? (STATUS[error.code] ?? 422) : 422);

/** A code as typed or pasted: spaces (and the grouping a user may add) removed; the service decides the rest. */
const typedCode = (value: string | undefined): string => (value ?? "").replace(/\s+/g, "");

/** The proof a form carries: a passkey response (with its challenge) or a code; null when it carries none. */
function proofOf(form: Form): { code: string } | { challenge_id: string; credential: unknown } | null {
	if ((form.credential ?? "") !== "") {
		let credential: unknown = form.credential;
		try {
			credential = JSON.parse(form.credential!);
		} catch {
			// Passed on as it is: the service counts a malformed response as an attempt, like the API does.
		}
		return { challenge_id: form.challenge_id ?? "", credential };
	}
	const code = typedCode(form.code);
	return code === "" ? null : { code };
}

const toView = (factor: Awaited<ReturnType<Services["factors"]["list"]>>[number]): FactorView => ({
	id: factor.id,
	type: factor.type,
	status: factor.status,
	label: factor.label,
	createdAt: Date.parse(factor.created_at),
	lastUsedAt: factor.last_used_at === null ? null : Date.parse(factor.last_used_at),
});

/** Only http(s) links from the tenant's settings become links (never javascript: or data:). */
const safeLink = (url: string | null | undefined): string | null => {
	if (typeof url !== "string") return null;
	try {
		const parsed = new URL(url);
		return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
	} catch {
		return null;
	}
};

export function promptPageRoutes(services: Services, options: PromptPageOptions): FastifyPluginAsync {
	const publicOrigin = (): string => new URL(options.publicUrl()).origin;
	const isHTTPS = (): boolean => publicOrigin().startsWith("https:");
	const { store, keyring, random, clock } = services.deps;
	const now = (): number => clock().getTime();

	/** Everything a handler knows about the request once it passed the session, CSRF and interaction checks. */
	interface Visit {
		request: FastifyRequest<{ Params: Params; Body: Form }>;
		reply: FastifyReply;
		prompt: PromptRequest;
		ctx: TenantContext;
		settings: PromptTenantSettings;
		session: PromptSessionTable;
		key: { idHash: string; tenantId: string; uid: string };
		page: PageContext;
	}

	function stopLocale(request: FastifyRequest): Locale {
		return chooseLocale([], request.headers["accept-language"], undefined);
	}

	function stop(request: FastifyRequest, reply: FastifyReply, status: number, title: MessageKey, body: MessageKey): FastifyReply {
		const locale = stopLocale(request);
		const html = renderStopPage({ locale, t: translator(locale), title, body, stylesheet: PROMPT_ASSETS.stylesheet });
		return reply.code(status).headers(promptPageHeaders({ nonce: newNonce(), https: isHTTPS() })).type("text/html; charset=utf-8").send(html);
	}

	const newNonce = (): string => randomBytes(16).toString("base64url");

	/**
	 * The checks every request passes, in this order: (POST) a session for this cookie, tenant and interaction, and
	 * its CSRF token, before anything else is read; then the interaction from the provider, which must be the one the
	 * URL names. A GET with no session gets a new one.
	 */
	async function begin(request: FastifyRequest<{ Params: Params; Body: Form }>, reply: FastifyReply): Promise<Visit | undefined> {
		const { tenant, uid } = request.params;
		const cookie = readPromptCookie(request.headers.cookie);
		const post = request.method === "POST";
		let session = cookie === undefined ? undefined : await store.promptSessions.find(sessionIdHash(cookie), tenant, uid, now());
		if (post && (cookie === undefined || session === undefined || !csrfMatches(cookie, tenant, uid, request.body?.csrf))) {
			// A forged post (no cookie, another session's token, none at all) is refused before the interaction is touched.
			stop(request, reply, 403, "stop.csrf_title", "stop.csrf_body");
			return undefined;
		}
		let loaded: { request: PromptRequest; ctx: TenantContext };
		try {
			loaded = await options.interactions.load(request.raw, reply.raw);
		} catch (error) {
			if (error instanceof ServiceError || (error as { code?: unknown })?.code === "prompt_expired") {
				stop(request, reply, 410, "stop.expired_title", "stop.expired_body");
				return undefined;
			}
			throw error;
		}
		const { request: prompt, ctx } = loaded;
		if (prompt.tenantId !== tenant || prompt.uid !== uid || ctx.tenantId !== tenant) {
			stop(request, reply, 403, "stop.wrong_place_title", "stop.wrong_place_body");
			return undefined;
		}
		let value = cookie;
		if (session !== undefined && session.user_id !== prompt.userId) session = undefined;
		if (session === undefined) {
			if (post) {
				stop(request, reply, 403, "stop.csrf_title", "stop.csrf_body");
				return undefined;
			}
			value ??= newCookieValue(random);
			const at = now();
			session = {
				id_hash: sessionIdHash(value),
				tenant_id: tenant,
				interaction_uid: uid,
				user_id: prompt.userId,
				proved_at: null,
				proved_method: null,
				proof_envelope: null,
				pending_factor_id: null,
				enrollment_envelope: null,
				recovery_codes_envelope: null,
				email_challenge_id: null,
				created_at: at,
				expires_at: Math.min(at + SESSION_TTL_MS, Math.max(prompt.expiresAt, at + 60_000)),
			};
			await store.promptSessions.delete(session.id_hash, tenant, uid);
			try {
				await store.promptSessions.insert(session);
			} catch (error) {
				// Two first loads with the same cookie (two tabs, a prefetch) race to insert the same key: the loser
				// takes the winner's row, which is for the same cookie, tenant, interaction and user.
				const winner = await store.promptSessions.find(session.id_hash, tenant, uid, now());
				if (winner === undefined || winner.user_id !== prompt.userId) throw error;
				session = winner;
			}
			if (value !== cookie) reply.header("set-cookie", promptCookieHeader(value));
		}
		const settings = ctx.settings;
		const locale = chooseLocale(prompt.uiLocales, request.headers["accept-language"], settings.branding.default_locale);
		const colour = settings.branding.primary_color;
		const page: PageContext = {
			locale,
			t: translator(locale),
			nonce: newNonce(),
			tenant: {
				name: settings.branding.display_name ?? ctx.tenantName,
				logoUrl: settings.branding.has_logo === true ? `${prompt.issuerPath}/logo` : null,
			},
			client: { name: prompt.client.name, logoUrl: prompt.client.hasLogo ? `${prompt.issuerPath}/clients/${encodeURIComponent(prompt.client.id)}/logo` : null },
			base: `${prompt.issuerPath}/interaction/${encodeURIComponent(uid)}`,
			csrf: csrfToken(value!, tenant, uid),
			assets: {
				stylesheet: PROMPT_ASSETS.stylesheet,
				theme: typeof colour === "string" && /^#[0-9a-fA-F]{6}$/.test(colour) ? PROMPT_ASSETS.theme(tenant, colour) : null,
				script: PROMPT_ASSETS.script,
				passkeyScript: PROMPT_ASSETS.passkeyScript,
			},
		};
		return { request, reply, prompt, ctx, settings, session, key: { idHash: session.id_hash, tenantId: tenant, uid }, page };
	}

	function send(visit: Visit, tree: ComponentChildren, status = 200): FastifyReply {
		return visit.reply
			.code(status)
			.headers(promptPageHeaders({ nonce: visit.page.nonce, formTargets: [visit.prompt.redirectOrigin], https: isHTTPS() }))
			.type("text/html; charset=utf-8")
			.send(renderDocument(tree));
	}

	const redirectToBase = (visit: Visit): FastifyReply => visit.reply.code(303).headers(promptPageHeaders({ nonce: visit.page.nonce, https: isHTTPS() })).redirect(visit.page.base, 303);

	async function save(visit: Visit, changes: Parameters<typeof store.promptSessions.update>[4]): Promise<void> {
		await store.promptSessions.update(visit.key.idHash, visit.key.tenantId, visit.key.uid, now(), changes);
		Object.assign(visit.session, changes);
	}
	const seal = (visit: Visit, column: SealedColumn, value: unknown): string => sealState(keyring, random, visit.key, column, value);
	const open = <T,>(visit: Visit, column: SealedColumn): T | null => openState<T>(keyring, visit.key, column, visit.session[column]);

	/**
	 * Ends the interaction: the provider answers with its redirect; the session row goes first, so nothing on it can
	 * finish the interaction twice. The reply is hijacked (the provider writes it), so a failure here (an interaction
	 * that expired meanwhile, a proof the seam refuses) is answered with the "start again" page by hand: Fastify would
	 * only log it and leave the browser waiting.
	 */
	async function finish(visit: Visit, outcome: PromptOutcome): Promise<void> {
		await store.promptSessions.delete(visit.key.idHash, visit.key.tenantId, visit.key.uid);
		visit.reply.hijack();
		const raw = visit.reply.raw;
		for (const [name, value] of Object.entries(promptPageHeaders({ nonce: visit.page.nonce, formTargets: [visit.prompt.redirectOrigin], https: isHTTPS() }))) raw.setHeader(name, value);
		try {
			await options.interactions.finish(visit.request.raw, raw, outcome);
		} catch (error) {
			visit.request.log.error({ err: error }, "prompt interaction could not be finished");
			if (raw.headersSent) {
				raw.destroy();
				return;
			}
			const html = renderStopPage({ locale: visit.page.locale, t: visit.page.t, title: "stop.expired_title", body: "stop.expired_body", stylesheet: PROMPT_ASSETS.stylesheet });
			raw.statusCode = 410;
			raw.setHeader("content-type", "text/html; charset=utf-8");
			raw.setHeader("cache-control", "no-store");
			raw.end(html);
		}
	}

	/**
	 * The stored proof, when it may still be spent (to add a factor) or end the interaction: given within
	 * FRESH_PROOF_MS and with its assertion still valid by a margin (the tenant's assertion lifetime may be shorter than
	 * the window). Otherwise null, and the user proves again rather than the service or the finish refusing an expired
	 * assertion.
	 */
	function freshProof(visit: Visit): Proof | null {
		const lifetimeMs = visit.ctx.settings.assertions.ttl_seconds * 1000 - 10_000;
		if (visit.session.proved_at === null || visit.session.proved_at <= now() - Math.min(FRESH_PROOF_MS, lifetimeMs)) return null;
		return open<Proof>(visit, "proof_envelope");
	}

	const accepts = (visit: Visit, acr: string): boolean => acrAccepted(visit.prompt.acrValues, acr);
	/**
	 * Whether a user with no active factor may enroll a first one here: always to enroll or manage, and on a sign-in
	 * only under the tenant's no-factor policy "enroll". Checked on every enrollment route, not only on the page that
	 * offers it, so a crafted request to /enroll cannot turn "deny" (or "allow", which ends without a factor) into a
	 * factor chosen by whoever holds the interaction.
	 */
	const firstFactorAllowed = (visit: Visit): boolean => visit.prompt.intent !== "verify" || visit.settings.prompt.no_factor_policy === "enroll";
	const isFresh = (visit: Visit): boolean => visit.session.proved_at !== null && visit.session.proved_at > now() - FRESH_PROOF_MS;

	async function factorsOf(visit: Visit): Promise<FactorView[]> {
		return orderFactors((await services.factors.list(visit.ctx, visit.prompt.userId)).map(toView));
	}

	async function passkeyCeremony(visit: Visit, factors: readonly FactorView[]): Promise<PasskeyCeremony | null> {
		if (!factors.some((f) => f.type === "webauthn" && f.status === "active") || !passkeysUsableAt(visit.ctx.settings.webauthn, options.publicUrl())) return null;
		try {
			const created = await services.challenges.createWebAuthn(visit.ctx, visit.prompt.userId);
			return { options: created.webauthn.options, challengeId: created.challenge.id };
		} catch (error) {
			// A locked user gets no challenge; the page says why when the user tries another way.
			if (error instanceof ServiceError) return null;
			throw error;
		}
	}

	/**
	 * Email codes are offered for a sign-in only (intent verify): an email code proves nothing for a factor change
	 * (R-EM-1), so it may not open manage or "add another". Not when the application asked for acr values that
	 * exclude email either: the result would be one it refuses. And only beside an active factor, where the verify
	 * page is shown: a user without one meets the tenant's no-factor policy, which a crafted post must not skip.
	 */
	async function emailAllowed(visit: Visit, factors?: readonly FactorView[]): Promise<boolean> {
		if (visit.prompt.intent !== "verify") return false;
		if (!accepts(visit, ACR.email)) return false;
		return (factors ?? (await factorsOf(visit))).some((f) => f.status === "active");
	}

	/** The email offer for this visit: only to the address on record (services decide whether there is one), masked. */
	async function emailOffer(visit: Visit, factors?: readonly FactorView[]): Promise<EmailOffer | null> {
		if (!(await emailAllowed(visit, factors))) return null;
		const offer = await services.challenges.storedEmailOffer(visit.ctx, visit.prompt.userId);
		if (offer === null) return null;
		return { maskedAddress: offer.masked_address, sent: (visit.session.email_challenge_id ?? null) !== null, minutes: EMAIL_CODE_TTL_MS / 60_000 };
	}

	async function verifyPage(visit: Visit, errors: readonly FieldError[] = [], status = 200, factors?: FactorView[]): Promise<FastifyReply> {
		const purpose = visit.prompt.intent === "verify" ? "verify" : "reauth";
		// A sign-in's proof is its result: only the factors whose proof reaches a level the application accepts
		// (acr_values) are offered. A re-authentication before enrolling or managing is not the result (a passkey
		// added next may be), so every factor may give it; finish checks the level of what the interaction ends with.
		const list = (factors ?? (await factorsOf(visit))).filter((f) => purpose === "reauth" || f.status !== "active" || accepts(visit, ACR_OF[f.type]));
		return send(
			visit,
			<VerifyPage
				page={visit.page}
				data={{
					factors: list,
					passkey: await passkeyCeremony(visit, list),
					totp: { digits: visit.ctx.settings.totp.digits, period: visit.ctx.settings.totp.period },
					action: purpose === "verify" && visit.prompt.action !== null ? { description: visit.prompt.action.description } : null,
					errors,
					purpose,
					email: await emailOffer(visit, list),
				}}
			/>,
			status,
		);
	}

	async function lostPage(visit: Visit, errors: readonly FieldError[] = [], status = 200, sent = false): Promise<FastifyReply> {
		const offered = visit.settings.prompt.recovery_requests;
		const email = await emailOffer(visit);
		return send(
			visit,
			<LostAccessPage
				page={visit.page}
				data={{
					support: { text: visit.settings.prompt.support_text ?? null, url: safeLink(visit.settings.prompt.support_url) },
					resetRequest: sent ? "sent" : offered ? "offered" : "off",
					errors,
					email,
				}}
			/>,
			status,
		);
	}

	function enrollChoice(visit: Visit, mode: "first" | "another", errors: readonly FieldError[] = [], status = 200): FastifyReply {
		return send(visit, <EnrollChoicePage page={visit.page} data={{ mode, passkeyAvailable: passkeysUsableAt(visit.ctx.settings.webauthn, options.publicUrl()), errors }} />, status);
	}

	function setupPage(visit: Visit, enrollment: Enrollment, errors: readonly FieldError[] = [], status = 200): FastifyReply {
		if (enrollment.kind === "webauthn") return send(visit, <PasskeySetupPage page={visit.page} data={{ ceremony: { options: enrollment.options, challengeId: null }, errors }} />, status);
		const { digits, period } = visit.ctx.settings.totp;
		return send(
			visit,
			<AppSetupPage page={visit.page} data={{ qrSvg: enrollment.qrSvg ?? "", secret: enrollment.secret ?? "", issuer: enrollment.issuer ?? "", account: enrollment.account ?? "", digits, period, errors }} />,
			status,
		);
	}

	async function managePage(visit: Visit, notice: { key: MessageKey; values?: Record<string, string> } | null = null, errors: readonly FieldError[] = [], status = 200): Promise<FastifyReply> {
		const factors = await factorsOf(visit);
		return send(visit, <ManagePage page={visit.page} data={{ factors, canRename: true, notice, errors }} />, status);
	}

	/** What GET shows: unfinished steps first (codes to acknowledge, a factor to confirm), then by intent. */
	async function current(visit: Visit): Promise<FastifyReply | void> {
		const codes = open<string[]>(visit, "recovery_codes_envelope");
		if (codes !== null) return send(visit, <RecoveryCodesPage page={visit.page} data={{ codes, errors: [] }} />);
		const enrollment = open<Enrollment>(visit, "enrollment_envelope");
		if (enrollment !== null) return setupPage(visit, enrollment);
		const factors = await factorsOf(visit);
		const active = factors.filter((f) => f.status === "active");
		if (visit.prompt.intent === "verify") {
			// Nothing the user holds reaches a level the application accepts (a passkey asked for, only an app enrolled):
			// the application learns it as access_denied rather than the user trying proofs that cannot count.
			if (active.length > 0 && !active.some((f) => accepts(visit, ACR_OF[f.type])) && !accepts(visit, ACR_OF.recovery_code)) {
				return finish(visit, { result: "denied", reason: "policy", description: "The user has no factor that reaches a level the application accepts (acr_values)." });
			}
			if (active.length > 0) return verifyPage(visit, [], 200, factors);
			const policy = visit.settings.prompt.no_factor_policy ?? "enroll";
			if (policy === "deny") return finish(visit, { result: "denied", reason: "policy", description: "The user has no second factor and the tenant's policy denies sign-in without one." });
			if (policy === "allow") return finish(visit, { result: "no_factor_allowed" });
			return enrollChoice(visit, "first");
		}
		if (active.length === 0) return enrollChoice(visit, "first");
		if (!isFresh(visit)) return verifyPage(visit, [], 200, factors);
		if (visit.prompt.intent === "enroll") return freshProof(visit) === null ? verifyPage(visit, [], 200, factors) : enrollChoice(visit, "another");
		return managePage(visit);
	}

	/** After a proof or a confirmation: the user proved with `method`, and the interaction may end with `assertion`. */
	async function proved(visit: Visit, proof: Proof): Promise<void> {
		await save(visit, { proved_at: now(), proved_method: proof.method, proof_envelope: seal(visit, "proof_envelope", proof) });
	}

	/**
	 * An email code answers the challenge this session sent (its id kept in prompt_sessions, not in the form): a code
	 * from a challenge started elsewhere (the API, another interaction) finishes nothing here.
	 */
	async function verifyEmail(visit: Visit, form: Form): Promise<FastifyReply | void> {
		const challengeId = visit.session.email_challenge_id ?? null;
		if (challengeId === null || !(await emailAllowed(visit))) return verifyPage(visit, [{ field: null, key: "error.email_unavailable" }], 409);
		const code = typedCode(form.email_code);
		if (code === "") return verifyPage(visit, [{ field: "email-code", key: "error.email_code_required" }], 400);
		const action = visit.prompt.action !== null ? { action: visit.prompt.action.action } : {};
		let result: Awaited<ReturnType<Services["verifications"]["verify"]>>;
		try {
			result = await services.verifications.verify(visit.ctx, visit.prompt.userId, { challenge_id: challengeId, code, ...action });
		} catch (error) {
			const shown = fieldErrorFor(error, "email-code", visit.prompt.client.name);
			if (shown === undefined) throw error;
			return verifyPage(visit, [shown.key === "error.invalid_code" ? { ...shown, key: "error.invalid_email_code" } : shown], statusFor(error));
		}
		return finish(visit, { result: "verified", method: result.method, assertion: result.assertion });
	}

	async function verifyWith(visit: Visit, form: Form, recovery: boolean): Promise<FastifyReply | void> {
		if (!recovery && form.email_code !== undefined) return verifyEmail(visit, form);
		const field = recovery ? "recovery-code" : form.credential ? null : "code";
		const proof = proofOf(form);
		const again = (errors: FieldError[], status: number) => (recovery ? lostPage(visit, errors, status) : verifyPage(visit, errors, status));
		// An empty field is not an attempt: nothing is sent to the service, and the page says what to enter.
		if (proof === null) return again([{ field: field ?? "code", key: recovery ? "error.recovery_required" : "error.code_required" }], 400);
		// A proof that cannot reach a level the application accepts is refused before it is tried: no attempt is spent,
		// and no code is used up on a result that would be denied (oidc/prompt-interactions.ts finish is the guarantee).
		// The service tells a recovery code from an app code by its form, wherever it was typed: so does this check.
		const reaches = "code" in proof ? (recovery || normalizeRecoveryCode(proof.code) !== null ? ACR_OF.recovery_code : ACR.otp) : ACR.phishingResistant;
		if (visit.prompt.intent === "verify" && !accepts(visit, reaches)) return again([{ field, key: "error.insufficient_proof" }], 403);
		// The action is bound only when the interaction is a sign-in; a fresh proof for a change must approve none (R-LC-1).
		const action = visit.prompt.intent === "verify" && visit.prompt.action !== null ? { action: visit.prompt.action.action } : {};
		let result: Awaited<ReturnType<Services["verifications"]["verify"]>>;
		try {
			result = await services.verifications.verify(visit.ctx, visit.prompt.userId, { ...proof, ...action });
		} catch (error) {
			const shown = fieldErrorFor(error, field, visit.prompt.client.name, recovery);
			if (shown === undefined) throw error;
			return again([shown], statusFor(error));
		}
		if (visit.prompt.intent === "verify") return finish(visit, { result: "verified", method: result.method, assertion: result.assertion });
		await proved(visit, { assertion: result.assertion, method: result.method });
		return redirectToBase(visit);
	}

	return async (app) => {
		// Forms post urlencoded; nothing else is accepted here (no JSON: the pages are not an API). Small: the largest
		// form is a passkey response.
		app.removeAllContentTypeParsers();
		app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 32 * 1024 }, (_request, body, done) => {
			const form: Form = Object.create(null) as Form;
			for (const [name, value] of new URLSearchParams(body as string)) form[name] = value;
			done(null, form);
		});
		// Failures become pages, never the API's JSON: the user sees what to do, the log has the cause.
		app.setErrorHandler((error, request, reply) => {
			request.log.error({ err: error }, "prompt page failed");
			if (reply.sent || reply.raw.headersSent) return;
			const code = (error as { code?: string }).code;
			if (code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" || code === "FST_ERR_CTP_BODY_TOO_LARGE") return stop(request, reply, 400, "stop.csrf_title", "stop.csrf_body");
			return stop(request, reply, 500, "error.summary", "error.unavailable");
		});

		const base = "/t/:tenant/interaction/:uid";
		type Route = { Params: Params; Body: Form };
		const route = (method: "GET" | "POST", path: string, handler: (visit: Visit) => Promise<FastifyReply | void>) =>
			app.route<Route>({
				method,
				url: `${base}${path}`,
				schema: { hide: true },
				handler: async (request, reply) => {
					const visit = await begin(request, reply);
					if (visit === undefined) return reply;
					await handler(visit);
					return reply;
				},
			});

		route("GET", "", (visit) => current(visit));
		route("POST", "/verify", (visit) => verifyWith(visit, visit.request.body, false));
		route("POST", "/recovery", (visit) => verifyWith(visit, visit.request.body, true));
		route("GET", "/lost", async (visit) => lostPage(visit));
		// Sends a code to the address on record through the service (its per-user and per-tenant limits, the lock, only
		// the newest code valid), keeps the challenge id with the session, and shows the code field (post, redirect, get).
		route("POST", "/email", async (visit) => {
			const factors = await factorsOf(visit);
			// Without an active factor the page is the no-factor policy's, not verify's: back to it.
			if (!factors.some((f) => f.status === "active")) return redirectToBase(visit);
			if (!(await emailAllowed(visit, factors))) return verifyPage(visit, [{ field: null, key: "error.email_unavailable" }], 409, factors);
			let sent: Awaited<ReturnType<Services["challenges"]["sendEmailToStored"]>>;
			try {
				sent = await services.challenges.sendEmailToStored(visit.ctx, visit.prompt.userId);
			} catch (error) {
				const shown = fieldErrorFor(error, null, visit.prompt.client.name);
				if (shown === undefined) throw error;
				return verifyPage(visit, [shown], statusFor(error));
			}
			if (sent === null) return verifyPage(visit, [{ field: null, key: "error.email_unavailable" }], 409);
			await save(visit, { email_challenge_id: sent.challenge.id });
			return redirectToBase(visit);
		});
		route("POST", "/request-reset", async (visit) => {
			if (!visit.settings.prompt.recovery_requests) return lostPage(visit);
			await services.users.requestRecovery(visit.ctx, visit.prompt.userId);
			return lostPage(visit, [], 200, true);
		});
		route("POST", "/cancel", (visit) => finish(visit, { result: "denied", reason: "cancelled", description: "The user cancelled." }));

		route("GET", "/enroll", async (visit) => {
			const active = (await factorsOf(visit)).filter((f) => f.status === "active");
			if (active.length === 0 && !firstFactorAllowed(visit)) return redirectToBase(visit);
			if (active.length === 0) return enrollChoice(visit, "first");
			return freshProof(visit) === null ? verifyPage(visit) : enrollChoice(visit, "another");
		});
		route("POST", "/enroll", async (visit) => {
			const form = visit.request.body;
			const active = (await factorsOf(visit)).filter((f) => f.status === "active");
			const mode = active.length === 0 ? "first" : "another";
			if (mode === "first" && !firstFactorAllowed(visit)) return redirectToBase(visit);
			const kind = form.kind === "totp" || form.kind === "webauthn" ? form.kind : null;
			const label = (form.label ?? "").trim();
			const errors: FieldError[] = [];
			if (kind === null) errors.push({ field: "kind-totp", key: "error.kind_required" });
			if (label !== "" && (label.length > MAX_LABEL || !isFactorLabel(label))) errors.push({ field: "label", key: "error.label_invalid" });
			if (errors.length > 0 || kind === null) return enrollChoice(visit, mode, errors, 400);
			// Adding to existing factors needs a proof (R-LC-1): the fresh step-up assertion of this interaction, spent here.
			const proof = mode === "another" ? freshProof(visit) : null;
			if (mode === "another" && proof === null) return verifyPage(visit, [{ field: null, key: "error.no_proof_left" }], 403);
			const input = { ...(label === "" ? {} : { label }), ...(proof === null ? {} : { assertion: proof.assertion }) };
			if (proof !== null) await save(visit, { proof_envelope: null });
			try {
				if (kind === "totp") {
					const enrolled = await services.factors.enrollTOTP(visit.ctx, visit.prompt.userId, input);
					const enrollment: Enrollment = {
						kind,
						factorId: enrolled.factor.id,
						secret: enrolled.totp.secret,
						qrSvg: enrolled.totp.qr_svg,
						issuer: visit.ctx.settings.issuer,
						account: enrolled.factor.label,
					};
					await save(visit, { pending_factor_id: enrolled.factor.id, enrollment_envelope: seal(visit, "enrollment_envelope", enrollment) });
				} else {
					const enrolled = await services.factors.enrollWebAuthn(visit.ctx, visit.prompt.userId, input);
					const enrollment: Enrollment = { kind, factorId: enrolled.factor.id, options: (enrolled as unknown as { webauthn: { options: unknown } }).webauthn.options };
					await save(visit, { pending_factor_id: enrolled.factor.id, enrollment_envelope: seal(visit, "enrollment_envelope", enrollment) });
				}
			} catch (error) {
				const shown = fieldErrorFor(error, null, visit.prompt.client.name);
				if (shown === undefined) throw error;
				if (shown.key === "error.no_proof_left") return verifyPage(visit, [shown], 403);
				return enrollChoice(visit, mode, [shown], statusFor(error));
			}
			return redirectToBase(visit);
		});
		route("POST", "/enroll/confirm", async (visit) => {
			const enrollment = open<Enrollment>(visit, "enrollment_envelope");
			if (enrollment === null) return redirectToBase(visit);
			const form = visit.request.body;
			const proof = proofOf(form);
			if (proof === null || (enrollment.kind === "totp" && !("code" in proof))) return setupPage(visit, enrollment, [{ field: "code", key: "error.code_required" }], 400);
			let confirmed: Awaited<ReturnType<Services["factors"]["confirm"]>>;
			try {
				confirmed = await services.factors.confirm(visit.ctx, visit.prompt.userId, enrollment.factorId, "code" in proof ? { code: proof.code } : { credential: proof.credential });
			} catch (error) {
				const shown = fieldErrorFor(error, enrollment.kind === "totp" ? "code" : null, visit.prompt.client.name);
				if (shown === undefined) throw error;
				if (shown.key === "error.factor_expired" || shown.key === "error.not_found") {
					await save(visit, { pending_factor_id: null, enrollment_envelope: null });
					const active = (await factorsOf(visit)).filter((f) => f.status === "active");
					return enrollChoice(visit, active.length === 0 ? "first" : "another", [shown], statusFor(error));
				}
				return setupPage(visit, enrollment, [shown], statusFor(error));
			}
			await save(visit, { pending_factor_id: null, enrollment_envelope: null });
			await proved(visit, { assertion: confirmed.assertion, method: confirmed.factor.type });
			if (confirmed.recovery_codes !== undefined) {
				await save(visit, { recovery_codes_envelope: seal(visit, "recovery_codes_envelope", confirmed.recovery_codes) });
				return redirectToBase(visit);
			}
			// A confirmation binds no action: a sign-in that approves one goes on to the verify page, where the new
			// factor's next proof approves it.
			if (visit.prompt.intent === "manage" || visit.prompt.action !== null) return redirectToBase(visit);
			return finish(visit, { result: "verified", method: confirmed.factor.type, assertion: confirmed.assertion });
		});
		route("POST", "/enroll/restart", async (visit) => {
			// The pending factor stays pending until it expires (it binds nothing); the next enroll starts afresh.
			await save(visit, { pending_factor_id: null, enrollment_envelope: null });
			return redirectToBase(visit);
		});

		route("GET", "/recovery-codes.txt", async (visit) => {
			const codes = open<string[]>(visit, "recovery_codes_envelope");
			if (codes === null) return stop(visit.request, visit.reply, 404, "stop.expired_title", "stop.expired_body");
			const text = recoveryCodesText(visit.page.t("codes.file_header", { tenant: visit.page.tenant.name }), codes);
			return visit.reply
				.headers(promptPageHeaders({ nonce: visit.page.nonce, https: isHTTPS() }))
				.header("content-disposition", 'attachment; filename="recovery-codes.txt"')
				.type("text/plain; charset=utf-8")
				.send(text);
		});
		route("POST", "/recovery-codes/saved", async (visit) => {
			const codes = open<string[]>(visit, "recovery_codes_envelope");
			if (codes === null) return redirectToBase(visit);
			if (visit.request.body.saved !== "yes") return send(visit, <RecoveryCodesPage page={visit.page} data={{ codes, errors: [{ field: "saved", key: "error.ack_required" }] }} />, 400);
			// Acknowledged: the sealed copy goes now; the codes exist only as hashes from here on (R-RC-2).
			await save(visit, { recovery_codes_envelope: null });
			const proof = freshProof(visit);
			if (visit.prompt.intent === "manage" || visit.prompt.action !== null || proof === null) return redirectToBase(visit);
			return finish(visit, { result: "verified", method: proof.method, assertion: proof.assertion });
		});

		/** Manage's routes need a proof on this interaction within FRESH_PROOF_MS; else the user proves again first. */
		const manage = (path: string, handler: (visit: Visit) => Promise<FastifyReply | void>) =>
			route("POST", `/manage/${path}`, async (visit) => (visit.prompt.intent === "manage" && isFresh(visit) ? handler(visit) : redirectToBase(visit)));

		manage("rename", async (visit) => {
			const form = visit.request.body;
			const id = form.factor_id ?? "";
			const label = (form.label ?? "").trim();
			if (label.length > MAX_LABEL || !isFactorLabel(label)) return managePage(visit, null, [{ field: `rename-${id}`, key: "error.label_invalid" }], 400);
			try {
				await services.factors.rename(visit.ctx, visit.prompt.userId, id, label);
			} catch (error) {
				const shown = fieldErrorFor(error, null, visit.prompt.client.name);
				if (shown === undefined) throw error;
				return managePage(visit, null, [shown], statusFor(error));
			}
			return managePage(visit, { key: "manage.renamed", values: { name: label } });
		});

		async function changePage(visit: Visit, change: { kind: "remove"; factorId: string; name: string } | { kind: "regenerate" }, errors: FieldError[] = [], status = 200) {
			const factors = await factorsOf(visit);
			const codeFactor = factors.some((f) => f.status === "active" && (f.type === "totp" || f.type === "hotp"));
			return send(visit, <ChangeProofPage page={visit.page} data={{ change, codeFactor, passkey: await passkeyCeremony(visit, factors), errors }} />, status);
		}

		manage("remove", async (visit) => {
			const form = visit.request.body;
			const factor = (await factorsOf(visit)).find((f) => f.id === form.factor_id);
			if (factor === undefined) return managePage(visit, null, [{ field: null, key: "error.not_found" }], 404);
			const change = { kind: "remove" as const, factorId: factor.id, name: factor.label };
			const proof = proofOf(form);
			// The first post asks for the proof; the second carries it (a proof given now, whatever the session holds).
			if (proof === null) return changePage(visit, change, form.proof === "code" ? [{ field: "code", key: "error.code_required" }] : [], form.proof === "code" ? 400 : 200);
			try {
				await services.factors.delete(visit.ctx, visit.prompt.userId, factor.id, proof);
			} catch (error) {
				const shown = fieldErrorFor(error, "code" in proof ? "code" : null, visit.prompt.client.name);
				if (shown === undefined) throw error;
				return changePage(visit, change, [shown], statusFor(error));
			}
			return managePage(visit, { key: "manage.removed", values: { name: factor.label } });
		});
		manage("regenerate", async (visit) => {
			const form = visit.request.body;
			const proof = proofOf(form);
			if (proof === null) return changePage(visit, { kind: "regenerate" }, form.proof === "code" ? [{ field: "code", key: "error.code_required" }] : [], form.proof === "code" ? 400 : 200);
			let codes: string[];
			try {
				codes = await services.recoveryCodes.regenerate(visit.ctx, visit.prompt.userId, proof);
			} catch (error) {
				const shown = fieldErrorFor(error, "code" in proof ? "code" : null, visit.prompt.client.name);
				if (shown === undefined) throw error;
				return changePage(visit, { kind: "regenerate" }, [shown], statusFor(error));
			}
			await save(visit, { recovery_codes_envelope: seal(visit, "recovery_codes_envelope", codes) });
			return redirectToBase(visit);
		});
		manage("done", async (visit) => {
			const proof = freshProof(visit);
			if (proof === null) return verifyPage(visit, [{ field: null, key: "error.no_proof_left" }], 403);
			return finish(visit, { result: "verified", method: proof.method, assertion: proof.assertion });
		});
	};
}
