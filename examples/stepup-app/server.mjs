#!/usr/bin/env node
/**
 * An application with its own password login that uses the Twofold Prompt (issue 15, docs/prompt.md) for every
 * second-factor screen: it has no code field, QR code or factor list of its own. Twofold's hosted pages do the
 * second step of the login, enrollment and factor management, and approve the account changes, each bound to the
 * change it approves. The app reaches them with the SDK's createPromptClient over plain OpenID Connect (PAR, PKCE,
 * an id_token): it redirects the browser, and its callback finishes what it started.
 *
 * Credentials, as deSEC models them:
 * - the browser's session (a cookie): after the password it is good for nothing but the second step while the
 *   user has 2FA, and it is complete once the prompt has verified a factor;
 * - API tokens (made on the account page): non-interactive, they never step up, and by their own policy may use the
 *   records API but never manage the account.
 *
 * Changing the email and deleting the account are approved on Twofold's page with the change bound to it
 * (authorization_details twofold_action): the id_token's action hash must be the change's (the SDK checks it), and
 * the twofold_assertion beside it is checked against the same change and spent with Twofold (R-AS-5), so one
 * approval makes one change. Everything is in memory: this is an example (README.md beside it).
 *
 *   TWOFOLD_API_KEY=tfk_… TWOFOLD_TENANT=ten_… TWOFOLD_CLIENT_ID=… TWOFOLD_CLIENT_SECRET=… node examples/stepup-app/server.mjs
 */
import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { fileURLToPath } from "node:url";
import express from "express";
import { AssertionError, createPromptClient, createVerifier, PromptError, requestAction, TwofoldClient, TwofoldError } from "@twofold/sdk";

const hashPassword = (password, salt = randomBytes(16)) => ({ salt, hash: scryptSync(password, salt, 32) });
const passwordMatches = (password, stored) => timingSafeEqual(scryptSync(password, stored.salt, 32), stored.hash);
const newToken = () => randomBytes(32).toString("base64url");
const same = (a, b) => typeof a === "string" && typeof b === "string" && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Text for HTML: every value on a page goes through this (the email is the user's own input). */
const escape = (value) => String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

/** The session cookie: HttpOnly and SameSite=Lax (the prompt returns by a top-level GET, which Lax lets through). */
const COOKIE = "stepup_session";
/** How long a prompt may take before its answer is no longer taken. */
const PROMPT_TTL_MS = 10 * 60_000;

/**
 * @param {{ twofoldUrl: string, apiKey: string, adminApiKey?: string, tenantId: string, issuer?: string, port?: number,
 *   prompt: { issuer?: string, clientId: string, clientSecret: string }, secureCookies?: boolean, fetch?: typeof fetch }} options
 *   twofoldUrl: where the app reaches Twofold's API; apiKey: a default-scope key (factors, spending assertions);
 *   adminApiKey: an admin-scope key, only to erase the user at Twofold when the account is deleted (without it, account
 *   deletion is not offered: an app's everyday key should not be an admin's); issuer: the iss of Twofold's assertions (its TWOFOLD_PUBLIC_URL,
 *   default twofoldUrl); prompt: the app's registered client, its redirect URI `${url}/2fa/callback`, and the
 *   tenant's prompt issuer (default `${issuer}/t/${tenantId}`); secureCookies: mark the cookie Secure (behind https);
 *   fetch: how the app calls Twofold's API and prompt endpoints (default the global fetch), for a proxy or tracing.
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function startApp({ twofoldUrl, apiKey, tenantId, issuer = twofoldUrl, port = 3000, prompt: promptOptions, adminApiKey, secureCookies = false, fetch: doFetch }) {
	if (promptOptions?.clientId === undefined || promptOptions?.clientSecret === undefined) throw new TypeError("startApp: prompt.clientId and prompt.clientSecret (the app's registered client) are required");
	const twofold = new TwofoldClient({ baseUrl: twofoldUrl, apiKey, ...(doFetch === undefined ? {} : { fetch: doFetch }) });
	const eraser = adminApiKey === undefined ? undefined : new TwofoldClient({ baseUrl: twofoldUrl, apiKey: adminApiKey, ...(doFetch === undefined ? {} : { fetch: doFetch }) });
	// The twofold_assertion of an approval is checked like any step-up assertion: Twofold's signature, this tenant,
	// this user and the change it approves.
	// The assertions it sees come only from Twofold's token endpoint, never from a client, so a new kid means Twofold
	// rotated its keys: the key set is fetched again at once (no cooldown) instead of refusing approvals for 30 s.
	const assertions = createVerifier({ issuer, tenant: tenantId, jwksUrl: `${twofoldUrl}/.well-known/jwks.json`, jwksCooldownMs: 0 });
	/** email → { id, email, password } */
	const users = new Map();
	/** API token → user id */
	const apiTokens = new Map();
	/**
	 * Session id (the cookie) → { userId?, steppedUp, csrf, notice?, newApiToken?, prompts: Map<state, pending> }.
	 * The first page view makes one, so the sign-in forms carry a CSRF token too; other requests without one get a
	 * throwaway session that is never stored (no token to match, no prompt waiting), so they cannot fill the memory.
	 */
	const sessions = new Map();
	const byId = (id) => [...users.values()].find((user) => user.id === id);

	const app = express();
	app.disable("x-powered-by");
	app.use(express.urlencoded({ extended: false, limit: "16kb" }));
	const hasSecondFactor = async (userId) => (await twofold.listFactors(userId)).factors.some((factor) => factor.status === "active");

	const cookieOf = (req) => {
		for (const part of (req.get("cookie") ?? "").split(";")) {
			const [name, ...value] = part.trim().split("=");
			if (name === COOKIE) return value.join("=");
		}
		return undefined;
	};
	/** A new session (at the first visit, and again at each sign-in so no one can plant an id before it). */
	const newSession = (res, fields = {}) => {
		const id = newToken();
		const session = { steppedUp: false, csrf: newToken(), prompts: new Map(), ...fields };
		sessions.set(id, session);
		res.append("set-cookie", `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax${secureCookies ? "; Secure" : ""}`);
		return session;
	};
	const dropSession = (req) => sessions.delete(cookieOf(req) ?? "");
	app.get("/style.css", (_req, res) => res.type("css").send(STYLE));
	app.use((req, res, next) => {
		// No cache for pages that show a session's state; the frame and the referrer belong to no one else.
		res.set({ "cache-control": "no-store", "x-frame-options": "DENY", "referrer-policy": "no-referrer", "content-security-policy": `default-src 'none'; style-src 'self'; form-action 'self' ${new URL(promptIssuer()).origin}; frame-ancestors 'none'; base-uri 'none'` });
		res.locals.session = sessions.get(cookieOf(req) ?? "") ?? (req.method === "GET" && req.path === "/" ? newSession(res) : { steppedUp: false, csrf: undefined, prompts: new Map() });
		next();
	});

	/** Every post carries the session's CSRF token (a synchronizer token, compared in constant time). */
	const csrf = (req, res, next) => (same(req.body?.csrf, res.locals.session.csrf) ? next() : page(res.status(403), "Forbidden", `<p class="error">This form has expired. <a href="/">Start again</a>.</p>`));

	/**
	 * The request's user. `stage` "password" lets a session through before its second step (only for starting it);
	 * "complete" needs the second step done, or no second factor to do. An Authorization: Token header is an API
	 * token, which is refused here: API tokens never manage the account.
	 */
	const signedIn = (stage) => async (req, res, next) => {
		if (req.get("authorization") !== undefined) return res.status(403).json({ error: { code: "token_not_allowed", message: "API tokens cannot manage the account" } });
		const { session } = res.locals;
		const user = session.userId === undefined ? undefined : byId(session.userId);
		if (user === undefined) return res.redirect(303, "/");
		if (stage === "complete" && !session.steppedUp) {
			try {
				// A user with 2FA needs the second step; one without has none to do (and can add one on the account page).
				if (await hasSecondFactor(user.id)) return res.redirect(303, "/");
			} catch (error) {
				return next(error);
			}
			session.steppedUp = true;
		}
		res.locals.user = user;
		next();
	};

	/** The API's own credential: an API token in Authorization: Token …; a browser session is not one. */
	const apiToken = (req, res, next) => {
		const token = /^Token (\S+)$/.exec(req.get("authorization") ?? "")?.[1];
		const user = token === undefined ? undefined : byId(apiTokens.get(token));
		if (user === undefined) return res.status(401).json({ error: { code: "unauthorized", message: "Send Authorization: Token <token>" } });
		res.locals.user = user;
		next();
	};

	/** Twofold's prompt for the tenant, and the client (made once the app listens: its redirect URI names the port). */
	const promptIssuer = () => promptOptions.issuer ?? `${issuer}/t/${tenantId}`;
	let prompt;

	/**
	 * Starts a prompt for the session's user and sends the browser there. What to do with the answer (`then`) is
	 * kept in the session, under the state: the callback finds it only in the browser that started it.
	 */
	const startPrompt = async (res, request, then) => {
		const { session } = res.locals;
		const { url, ...promptSession } = await prompt.start({ userId: session.userId, ...request });
		for (const [state, pending] of session.prompts) if (pending.expires < Date.now()) session.prompts.delete(state);
		session.prompts.set(promptSession.state, { promptSession, then, expires: Date.now() + PROMPT_TTL_MS });
		res.redirect(303, url);
	};

	/**
	 * The approval of a change, from the prompt's result: the id_token approved exactly this action (the SDK checked
	 * its action hash against the one started with); the assertion must approve it too, for this user, and is spent
	 * with Twofold, so it approves this one change (R-AS-5). Throws when any of that fails.
	 */
	const approve = async (result, userId, action) => {
		await assertions.verify(result.assertion, { userId, action });
		await twofold.redeemAssertion(result.assertion);
	};

	/**
	 * A change the prompt approves: `change.fields` reads it from the form (undefined when invalid), `change.text`
	 * describes it on Twofold's page; the action is the request the app would make, so the binding names it exactly.
	 */
	const boundChange = (path, change, apply) => async (req, res, next) => {
		try {
			const { user } = res.locals;
			const fields = change.fields(req.body ?? {});
			if (fields === undefined) return notice(res, "error", change.invalid);
			if (!(await hasSecondFactor(user.id))) return notice(res, "error", "Set up two-factor authentication first: changes to your account are approved with it.");
			const action = await requestAction("POST", path, fields);
			await startPrompt(res, { action, description: change.text(fields) }, async ({ session, result }) => {
				await approve(result, session.userId, action);
				return apply(session, fields);
			});
		} catch (error) {
			next(error);
		}
	};

	/** Back to the account page with one line to show there. */
	const notice = (res, kind, text) => {
		res.locals.session.notice = { kind, text };
		res.redirect(303, "/");
	};

	app.get("/", async (req, res, next) => {
		try {
			const { session } = res.locals;
			const user = session.userId === undefined ? undefined : byId(session.userId);
			const shown = session.notice;
			delete session.notice;
			const flash = shown === undefined ? "" : `<p class="${shown.kind}" role="${shown.kind === "error" ? "alert" : "status"}" id="notice">${escape(shown.text)}</p>`;
			const form = (action, body, button, id) => `<form method="post" action="${action}" id="${id}"><input type="hidden" name="csrf" value="${session.csrf}">${body}<button type="submit" id="${id}-submit">${button}</button></form>`;
			if (user === undefined) {
				const fields = (id) => `<label for="${id}-email">Email</label><input id="${id}-email" name="email" type="email" autocomplete="username" required><label for="${id}-password">Password</label><input id="${id}-password" name="password" type="password" autocomplete="${id === "signup" ? "new-password" : "current-password"}" minlength="8" required>`;
				return page(res, "Example", `${flash}<h2>Sign in</h2>${form("/login", fields("login"), "Sign in", "login")}<h2>New here?</h2>${form("/signup", fields("signup"), "Create account", "signup")}`);
			}
			const twoFactor = await hasSecondFactor(user.id);
			if (twoFactor && !session.steppedUp) {
				return page(res, "Example", `${flash}<p>Signed in as ${escape(user.email)}: the second step is still to do.</p>${form("/login/2fa", "", "Continue with two-factor authentication", "second-step")}${form("/logout", "", "Sign out", "logout")}`);
			}
			const twoFactorSection = twoFactor
				? `<p id="two-factor">Two-factor authentication is on.</p>${form("/2fa/manage", "", "Manage two-factor authentication", "manage")}`
				: `<p id="two-factor">Two-factor authentication is off.</p>${form("/2fa/setup", "", "Set up two-factor authentication", "setup")}`;
			const token = session.newApiToken === undefined ? "" : `<p>Your new API token, shown once: <code id="api-token">${escape(session.newApiToken)}</code></p>`;
			delete session.newApiToken;
			return page(
				res,
				"Your account",
				`${flash}<p>Signed in as <strong id="email">${escape(user.email)}</strong>.</p>
<h2>Two-factor authentication</h2>${twoFactorSection}
<h2>Email address</h2>${form("/account/email", `<label for="new-email">New email address</label><input id="new-email" name="email" type="email" required>`, "Change email", "change-email")}
<h2>API tokens</h2><p>For the records API. They can never change your account.</p>${token}${form("/tokens", "", "Create an API token", "new-token")}
<h2>Leave</h2>${eraser === undefined ? "" : form("/account/delete", "", "Delete my account", "delete")}${form("/logout", "", "Sign out", "logout")}`,
			);
		} catch (error) {
			next(error);
		}
	});

	app.post("/signup", csrf, (req, res) => {
		const { email, password } = req.body ?? {};
		if (typeof email !== "string" || !email.includes("@") || typeof password !== "string" || password.length < 8) return notice(res, "error", "Enter an email address and a password of 8 or more characters.");
		if (users.has(email)) return notice(res, "error", "That email address has an account: sign in instead.");
		// Twofold knows the user by this opaque id only: no email, no name.
		const user = { id: `u_${randomBytes(8).toString("hex")}`, email, password: hashPassword(password) };
		users.set(email, user);
		dropSession(req);
		// A new user has no second factor yet: the session is complete.
		newSession(res, { userId: user.id, steppedUp: true, notice: { kind: "status", text: "Welcome! Set up two-factor authentication to protect your account." } });
		res.redirect(303, "/");
	});

	app.post("/login", csrf, async (req, res, next) => {
		try {
			const user = users.get(req.body?.email);
			if (user === undefined || typeof req.body.password !== "string" || !passwordMatches(req.body.password, user.password)) return notice(res, "error", "Wrong email or password.");
			dropSession(req);
			const session = newSession(res, { userId: user.id });
			res.locals.session = session;
			if (!(await hasSecondFactor(user.id))) {
				session.steppedUp = true;
				return res.redirect(303, "/");
			}
			// The second step, straight away: Twofold asks for the factor and sends the browser back.
			await startPrompt(res, { intent: "verify" }, stepUp);
		} catch (error) {
			next(error);
		}
	});

	/** The login's second step is done: the session may now use the account. */
	const stepUp = async ({ session }) => {
		session.steppedUp = true;
		return { kind: "status", text: "Signed in with two-factor authentication." };
	};
	app.post("/login/2fa", signedIn("password"), csrf, (_req, res, next) => startPrompt(res, { intent: "verify" }, stepUp).catch(next));
	app.post("/2fa/setup", signedIn("complete"), csrf, (_req, res, next) =>
		startPrompt(res, { intent: "enroll" }, async ({ session }) => {
			session.steppedUp = true;
			return { kind: "status", text: "Two-factor authentication is set up." };
		}).catch(next),
	);
	app.post("/2fa/manage", signedIn("complete"), csrf, (_req, res, next) =>
		startPrompt(res, { intent: "manage" }, async ({ session }) => ({
			kind: "status",
			text: (await hasSecondFactor(session.userId)) ? "Your two-factor settings are saved." : "Two-factor authentication is off: you removed your last factor.",
		})).catch(next),
	);

	app.post(
		"/account/email",
		signedIn("complete"),
		csrf,
		boundChange(
			"/account/email",
			{
				fields: (body) => (typeof body.email === "string" && body.email.includes("@") && body.email.length <= 100 ? { email: body.email } : undefined),
				invalid: "Enter the new email address.",
				text: ({ email }) => `Change your email address to ${email}`,
			},
			(session, { email }) => {
				const user = byId(session.userId);
				if (users.has(email)) return { kind: "error", text: "That email address has an account already." };
				users.delete(user.email);
				user.email = email;
				users.set(user.email, user);
				return { kind: "status", text: `Your email address is now ${email}.` };
			},
		),
	);

	if (eraser !== undefined) app.post(
		"/account/delete",
		signedIn("complete"),
		csrf,
		boundChange(
			"/account/delete",
			{ fields: () => ({}), invalid: "", text: () => "Delete your account and everything in it" },
			async (session) => {
				const user = byId(session.userId);
				await eraser.deleteUser(user.id);
				users.delete(user.email);
				for (const [token, userId] of apiTokens) if (userId === user.id) apiTokens.delete(token);
				// Signed out everywhere; this browser keeps its (now anonymous) session to show the notice.
				for (const [id, other] of sessions) if (other.userId === user.id && other !== session) sessions.delete(id);
				session.userId = undefined;
				session.steppedUp = false;
				return { kind: "status", text: "Your account is deleted." };
			},
		),
	);

	/**
	 * Twofold's answer. Only the browser that started the prompt has it in its session, and only once: a copied or
	 * replayed callback finds nothing to finish (and its code would be refused by Twofold anyway: a code works once).
	 */
	app.get("/2fa/callback", async (req, res, next) => {
		const { session } = res.locals;
		const state = typeof req.query.state === "string" ? req.query.state : "";
		const pending = session.prompts.get(state);
		session.prompts.delete(state);
		if (pending === undefined || pending.expires < Date.now() || session.userId === undefined) {
			return page(res.status(400), "Nothing to finish", `<p class="error" id="notice">No two-factor step of yours is waiting for this answer: it was finished already, or started in another browser. <a href="/">Back to your account</a>.</p>`);
		}
		try {
			const result = await prompt.callback(req.originalUrl, pending.promptSession);
			const outcome = await pending.then({ session, result });
			notice(res, outcome.kind, outcome.text);
		} catch (error) {
			if (error instanceof PromptError && error.reason === "authorization_error") return notice(res, "error", "The two-factor step was cancelled: nothing was changed.");
			// A refused assertion (wrong action or user) or one Twofold has spent already: the change is not made.
			if (error instanceof AssertionError || (error instanceof TwofoldError && error.code === "assertion_redeemed")) return notice(res, "error", "That approval cannot be used: nothing was changed.");
			next(error);
		}
	});

	app.post("/logout", csrf, (req, res) => {
		dropSession(req);
		newSession(res);
		res.redirect(303, "/");
	});

	app.post("/tokens", signedIn("complete"), csrf, (_req, res) => {
		const token = newToken();
		apiTokens.set(token, res.locals.user.id);
		res.locals.session.newApiToken = token;
		res.redirect(303, "/");
	});

	app.get("/me", apiToken, (_req, res) => res.json({ id: res.locals.user.id, email: res.locals.user.email, credential: "api" }));
	app.get("/records", apiToken, (_req, res) => res.json({ records: [] }));

	app.use((error, _req, res, _next) => {
		// Twofold's refusals and outages: a page, never the details (they may name the configuration).
		console.error(`stepup-app: ${error instanceof Error ? error.message : String(error)}`);
		page(res.status(error instanceof TwofoldError && error.status === 429 ? 429 : 502), "Something went wrong", `<p class="error" id="notice">Two-factor authentication could not be reached or refused the request. <a href="/">Back</a>.</p>`);
	});

	const server = app.listen(port, "127.0.0.1");
	await new Promise((resolve, reject) => server.once("listening", resolve).once("error", reject));
	const url = `http://127.0.0.1:${server.address().port}`;
	prompt = createPromptClient({ issuer: promptIssuer(), clientId: promptOptions.clientId, clientSecret: promptOptions.clientSecret, redirectUri: `${url}/2fa/callback`, ...(doFetch === undefined ? {} : { fetch: doFetch }) });
	return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const STYLE = "body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}label{display:block;margin-top:.5rem}input{display:block;font:inherit;padding:.3rem;width:100%;box-sizing:border-box}button{font:inherit;margin:.5rem 0;padding:.3rem .8rem}form{margin:.5rem 0 1rem}.error{color:#a00}.status{color:#060}code{word-break:break-all}";

/** The one layout: no script, nothing from another origin (the CSP says so too). */
function page(res, title, body) {
	res.type("html").send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · Example</title>
<link rel="stylesheet" href="/style.css">
</head><body><header><strong>Example</strong></header><main><h1>${escape(title)}</h1>${body}</main></body></html>`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const { TWOFOLD_URL = "http://127.0.0.1:8080", TWOFOLD_API_KEY, TWOFOLD_ADMIN_KEY, TWOFOLD_TENANT, TWOFOLD_ISSUER, TWOFOLD_CLIENT_ID, TWOFOLD_CLIENT_SECRET, PORT = "3000" } = process.env;
	if (!TWOFOLD_API_KEY || !TWOFOLD_TENANT || !TWOFOLD_CLIENT_ID || !TWOFOLD_CLIENT_SECRET) {
		console.error("TWOFOLD_API_KEY, TWOFOLD_TENANT (the tenant id), TWOFOLD_CLIENT_ID and TWOFOLD_CLIENT_SECRET (the app's client: README.md) are required.");
		process.exit(2);
	}
	const app = await startApp({
		twofoldUrl: TWOFOLD_URL,
		apiKey: TWOFOLD_API_KEY,
		adminApiKey: TWOFOLD_ADMIN_KEY || undefined,
		tenantId: TWOFOLD_TENANT,
		issuer: TWOFOLD_ISSUER ?? TWOFOLD_URL,
		port: Number(PORT),
		prompt: { clientId: TWOFOLD_CLIENT_ID, clientSecret: TWOFOLD_CLIENT_SECRET },
	});
	console.log(`Example app at ${app.url}`);
}
