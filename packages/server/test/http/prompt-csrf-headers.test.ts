import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceError } from "../../src/contract/service-error.js";
import { promptPageHeaders } from "../../src/http/prompt-headers.js";
import { csrfMatches, csrfToken, PROMPT_COOKIE, promptCookieHeader, readPromptCookie, sessionIdHash } from "../../src/http/prompt-session.js";
import { promptAssetRoutes } from "../../src/http/routes/prompt-assets.js";
import { promptPageRoutes } from "../../src/http/routes/prompt-pages.js";
import type { PromptInteractions } from "../../src/oidc/prompt-interaction.js";
import { buildTestApp, type TestApp } from "../helpers.js";

/**
 * The prompt's form protection and headers (issue 15; docs/UI.md "Forms", SECURITY.md CSRF): attacks on the real
 * routes over the real store. The interaction seam is not exercised here (its implementation is the OIDC
 * machinery's): every refusal below must happen before it is consulted, and `reached` records that it was.
 */
describe("prompt pages: CSRF and security headers", () => {
	let t: TestApp;
	let http: FastifyInstance;
	let reached = 0;
	const uid = "uid_csrf_test";
	const cookieA = "A".repeat(43);
	const cookieB = "B".repeat(43);

	beforeAll(async () => {
		t = await buildTestApp();
		// The seam answers "expired" whenever it is reached: that status (410) shows a request got past the CSRF check.
		const interactions: PromptInteractions = {
			load: async () => {
				reached += 1;
				throw new ServiceError("not_found");
			},
			finish: async () => {
				throw new Error("finish must not be reached");
			},
		};
		http = Fastify();
		await http.register(promptAssetRoutes(t.app.services));
		await http.register(promptPageRoutes(t.app.services, { interactions, publicUrl: () => "https://2fa.example.com" }));
		const row = (cookie: string, interaction: string) => ({
			id_hash: sessionIdHash(cookie),
			tenant_id: t.tenantId,
			interaction_uid: interaction,
			user_id: "alice",
			proved_at: null,
			proved_method: null,
			proof_envelope: null,
			pending_factor_id: null,
			enrollment_envelope: null,
			recovery_codes_envelope: null,
			email_challenge_id: null,
			created_at: Date.now(),
			expires_at: Date.now() + 600_000,
		});
		await t.app.services.deps.store.promptSessions.insert(row(cookieA, uid));
		await t.app.services.deps.store.promptSessions.insert(row(cookieB, "uid_other"));
	});
	afterAll(async () => {
		await http?.close();
		await t?.close();
	});

	const post = (cookie: string | null, body: Record<string, string>, path = "/verify", interaction = uid) =>
		http.inject({
			method: "POST",
			url: `/t/${t.tenantId}/interaction/${interaction}${path}`,
			headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie === null ? {} : { cookie: `${PROMPT_COOKIE}=${cookie}` }) },
			payload: new URLSearchParams(body).toString(),
		});

	it("a post without a session cookie is refused with a page saying so, before the interaction is read", async () => {
		const before = reached;
		const response = await post(null, { csrf: csrfToken(cookieA, t.tenantId, uid), code: "123456" });
		expect(response.statusCode).toBe(403);
		expect(response.headers["content-type"]).toContain("text/html");
		expect(response.body).toContain("This page has expired");
		expect(reached).toBe(before);
	});

	it("a post without a token, with a wrong one, or with another session's or interaction's token is refused", async () => {
		const before = reached;
		for (const csrf of [undefined, "", "x".repeat(43), csrfToken(cookieB, t.tenantId, "uid_other"), csrfToken(cookieB, t.tenantId, uid), csrfToken(cookieA, t.tenantId, "uid_other")]) {
			const response = await post(cookieA, csrf === undefined ? { code: "123456" } : { csrf, code: "123456" });
			expect(response.statusCode, String(csrf)).toBe(403);
			expect(response.body).toContain("This page has expired");
		}
		// Session B's cookie with its own valid token, aimed at A's interaction: no session of B there.
		expect((await post(cookieB, { csrf: csrfToken(cookieB, t.tenantId, uid) })).statusCode).toBe(403);
		// Another tenant in the URL with A's cookie and token: the session is bound to its tenant.
		const other = await http.inject({
			method: "POST",
			url: `/t/ten_someone_else/interaction/${uid}/cancel`,
			headers: { "content-type": "application/x-www-form-urlencoded", cookie: `${PROMPT_COOKIE}=${cookieA}` },
			payload: `csrf=${csrfToken(cookieA, t.tenantId, uid)}`,
		});
		expect(other.statusCode).toBe(403);
		expect(reached).toBe(before);
	});

	it("the session's own token passes the check (and only then is the interaction read)", async () => {
		const before = reached;
		const response = await post(cookieA, { csrf: csrfToken(cookieA, t.tenantId, uid), code: "123456" }, "/cancel");
		expect(reached).toBe(before + 1);
		expect(response.statusCode).toBe(410);
		expect(response.body).toContain("This request has expired");
	});

	it("a post that is not a form (JSON) is refused", async () => {
		const response = await http.inject({
			method: "POST",
			url: `/t/${t.tenantId}/interaction/${uid}/verify`,
			headers: { "content-type": "application/json", cookie: `${PROMPT_COOKIE}=${cookieA}` },
			payload: JSON.stringify({ csrf: csrfToken(cookieA, t.tenantId, uid) }),
		});
		expect(response.statusCode).toBe(400);
	});

	it("every page answer carries the CSP, no-referrer, nosniff, no-store, frame denial, and HSTS under https", async () => {
		for (const response of [await post(null, {}), await http.inject({ method: "GET", url: `/t/${t.tenantId}/interaction/${uid}` })]) {
			const csp = String(response.headers["content-security-policy"]);
			expect(csp).toMatch(/default-src 'none'/);
			expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9_-]{22}'(;|$)/);
			expect(csp).toContain("style-src 'self'");
			expect(csp).toContain("img-src 'self' data:");
			expect(csp).toContain("frame-ancestors 'none'");
			expect(csp).toContain("base-uri 'none'");
			expect(csp).toContain("form-action 'self'");
			expect(csp).not.toContain("unsafe-inline");
			expect(response.headers["referrer-policy"]).toBe("no-referrer");
			expect(response.headers["x-content-type-options"]).toBe("nosniff");
			expect(response.headers["cache-control"]).toBe("no-store");
			expect(response.headers["x-frame-options"]).toBe("DENY");
			expect(response.headers["strict-transport-security"]).toBe("max-age=31536000");
		}
		expect(promptPageHeaders({ nonce: "n", https: false })["strict-transport-security"]).toBeUndefined();
	});

	it("form-action names the application's redirect origin only when it is a plain origin (no directive injection)", () => {
		expect(promptPageHeaders({ nonce: "n", https: true, formTargets: ["https://app.example.com"] })["content-security-policy"]).toContain("form-action 'self' https://app.example.com;");
		const injected = promptPageHeaders({ nonce: "n", https: true, formTargets: ["https://a.example; script-src *", "javascript:x"] })["content-security-policy"];
		expect(injected).toContain("form-action 'self';");
		expect(injected).not.toContain("script-src *");
	});

	it("the cookie is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/; only our shape is read; the store has only a hash", () => {
		expect(promptCookieHeader(cookieA)).toBe(`__Host-twofold-prompt=${cookieA}; Path=/; Secure; HttpOnly; SameSite=Lax`);
		expect(readPromptCookie(`a=b; ${PROMPT_COOKIE}=${cookieA}`)).toBe(cookieA);
		expect(readPromptCookie(`${PROMPT_COOKIE}=short`)).toBeUndefined();
		expect(readPromptCookie(`x${PROMPT_COOKIE}=${cookieA}`)).toBeUndefined();
		expect(sessionIdHash(cookieA)).not.toContain(cookieA);
		expect(csrfMatches(cookieA, "ten", "uid", csrfToken(cookieA, "ten", "uid"))).toBe(true);
		expect(csrfMatches(cookieA, "ten", "uid", csrfToken(cookieA, "ten2", "uid"))).toBe(false);
		expect(csrfMatches(cookieA, "ten", "uid", ["array"])).toBe(false);
	});

	it("the assets are same-origin and the tenant colour sheet takes only #rrggbb", async () => {
		const css = await http.inject({ method: "GET", url: "/prompt/assets/prompt.css" });
		expect(css.statusCode).toBe(200);
		expect(css.body).toContain("prefers-color-scheme");
		expect(css.body).toContain("prefers-reduced-motion");
		expect(css.body).not.toMatch(/https?:\/\//);
		const js = await http.inject({ method: "GET", url: "/prompt/assets/passkey.js" });
		expect(js.headers["content-type"]).toContain("javascript");
		await t.app.services.deps.store.tenants.updateSettings(t.tenantId, JSON.stringify({ branding: { primary_color: "#ff0000" } }));
		expect((await http.inject({ method: "GET", url: `/prompt/theme/${t.tenantId}.css` })).body).toBe(":root{--brand:#ff0000;--on-brand:#000}\n");
		await t.app.services.deps.store.tenants.updateSettings(t.tenantId, JSON.stringify({ branding: { primary_color: "red;}body{display:none" } }));
		expect((await http.inject({ method: "GET", url: `/prompt/theme/${t.tenantId}.css` })).body).toBe("");
	});
});
