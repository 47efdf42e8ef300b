#!/usr/bin/env node
/**
 * An application with its own password login that uses Twofold for the second
 * factor and for step-up before account changes. Credentials, as deSEC models them:
 *
 * - a login token from POST /login: not stepped up while the user has 2FA, and
 *   then good for nothing but POST /login/2fa;
 * - the same token once stepped up (a current code at POST /login/2fa);
 * - API tokens (POST /tokens): non-interactive, they never step up, and by their
 *   own policy may use the records API but never manage the account.
 *
 * Changing the email, deleting the account and disabling 2FA also demand a fresh
 * Twofold assertion in the Twofold-Assertion header (RFC 9470 challenge when it
 * is missing). POST /step-up trades a current code for one, bound to the
 * operation it approves; the route spends it, so it approves that operation
 * once. Everything is in memory: this is an example (README.md beside it).
 *
 * With `prompt` (a client registered for the app), the app has no 2FA screen or code route of its own: the
 * second step of the login, enrollment, factor management and the email change go through the Twofold Prompt
 * (issue 15, docs/prompt.md), and the email change is approved with the action bound to it.
 *
 *   TWOFOLD_URL=http://127.0.0.1:8080 TWOFOLD_API_KEY=tfk_... TWOFOLD_TENANT=ten_... node examples/stepup-app/server.mjs
 */
import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { fileURLToPath } from "node:url";
import express from "express";
import { createPromptClient, PromptError, requestAction, TwofoldClient, TwofoldError } from "@twofold/sdk";
import { requireStepUp } from "@twofold/sdk/express";

const hashPassword = (password, salt = randomBytes(16)) => ({ salt, hash: scryptSync(password, salt, 32) });
const passwordMatches = (password, stored) => timingSafeEqual(scryptSync(password, stored.salt, 32), stored.hash);
const newToken = () => randomBytes(32).toString("base64url");

/**
 * @param {{ twofoldUrl: string, apiKey: string, tenantId: string, issuer?: string, port?: number,
 *   prompt?: { issuer: string, clientId: string, clientSecret: string } }} options
 *   prompt: the tenant's prompt issuer (`${TWOFOLD_PUBLIC_URL}/t/${tenantId}`) and the app's client; its redirect
 *   URI is `${url}/2fa/callback`.
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function startApp({ twofoldUrl, apiKey, tenantId, issuer = twofoldUrl, port = 3000, prompt: promptOptions }) {
	const twofold = new TwofoldClient({ baseUrl: twofoldUrl, apiKey });
	/** email → { id, email, password } */
	const users = new Map();
	/** token → { userId, kind: "login" | "api", steppedUp: boolean } */
	const tokens = new Map();
	const byId = (id) => [...users.values()].find((user) => user.id === id);

	const app = express();
	app.use(express.json({ limit: "16kb" }));
	const fail = (res, status, code, message) => res.status(status).json({ error: { code, message } });
	const hasSecondFactor = async (userId) => (await twofold.listFactors(userId)).factors.some((factor) => factor.status === "active");

	/** The request's credential. `allow` says which kinds of credential a route takes. */
	const authenticate = (allow) => async (req, res, next) => {
		const token = /^Token (\S+)$/.exec(req.get("authorization") ?? "")?.[1];
		const credential = token === undefined ? undefined : tokens.get(token);
		if (credential === undefined) return fail(res, 401, "unauthorized", "Send Authorization: Token <token>");
		if (!allow.includes(credential.kind)) return fail(res, 403, "token_not_allowed", "API tokens cannot manage the account");
		// A login token of a user with 2FA is good for nothing but the second step until it is stepped up.
		if (credential.kind === "login" && !credential.steppedUp && !allow.includes("login-pending") && (await hasSecondFactor(credential.userId))) {
			return fail(res, 403, "second_factor_required", "Finish the login with POST /login/2fa");
		}
		res.locals.user = byId(credential.userId);
		res.locals.credential = credential;
		next();
	};
	const stepUp = (bindAction) =>
		requireStepUp({
			issuer,
			tenant: tenantId,
			jwksUrl: `${twofoldUrl}/.well-known/jwks.json`,
			// Assertions for this user only: the application's session says who that is.
			userId: (req) => req.res.locals.user?.id,
			// Bound to this very request, and spent with Twofold when it passes (R-AS-5): the same request sent
			// again with the same assertion is refused (401, reason "redeemed"), so one approval is one change.
			...(bindAction ? { action: (req) => requestAction(req), redeemWith: twofold } : {}),
			// A wrong issuer or tenant id shows as a console.warn line naming both values (the client gets a plain
			// 401); onRejected: (reason, req) => … would see every refusal's reason.
		});
	/** Twofold's refusals keep their status and code; anything else is ours to report. */
	const relay = (handler) => async (req, res, next) => {
		try {
			await handler(req, res);
		} catch (error) {
			// A PromptError is a TwofoldError with no HTTP status of its own (0) when the SDK refused something itself.
			if (error instanceof TwofoldError) return fail(res, error.status || 502, error.code, error.message);
			next(error);
		}
	};

	app.post("/signup", (req, res) => {
		const { email, password } = req.body ?? {};
		if (typeof email !== "string" || typeof password !== "string" || password.length < 8) return fail(res, 400, "invalid_request", "email and a password of 8+ characters");
		if (users.has(email)) return fail(res, 409, "email_taken", "That email is taken");
		// Twofold knows the user by this opaque id only: no email, no name.
		const user = { id: `u_${randomBytes(8).toString("hex")}`, email, password: hashPassword(password) };
		users.set(email, user);
		res.status(201).json({ id: user.id });
	});

	app.post("/login", (req, res) => {
		const user = users.get(req.body?.email);
		if (user === undefined || typeof req.body.password !== "string" || !passwordMatches(req.body.password, user.password)) return fail(res, 401, "invalid_login", "Wrong email or password");
		const token = newToken();
		tokens.set(token, { userId: user.id, kind: "login", steppedUp: false });
		res.json({ token });
	});

	/** The prompt's client, made once the app listens (its redirect URI names the port); undefined without one. */
	let prompt;
	/** Prompts under way, by their state: the browser comes back to /2fa/callback without the app's token. */
	const pending = new Map();
	if (promptOptions === undefined) addCodeRoutes();
	else addPromptRoutes();

	function addCodeRoutes() {
		app.post(
			"/login/2fa",
			authenticate(["login", "login-pending"]),
			relay(async (req, res) => {
				const verified = await twofold.verify(res.locals.user.id, { code: String(req.body?.code ?? ""), first_factor: true });
				res.locals.credential.steppedUp = true;
				res.json({ stepped_up: true, assertion: verified.assertion });
			}),
		);

		app.post(
			"/2fa/enroll",
			authenticate(["login"]),
			relay(async (_req, res) => {
				const { factor, totp } = await twofold.enroll(res.locals.user.id, { type: "totp", issuer: "Example" });
				res.status(201).json({ factor_id: factor.id, uri: totp.uri, qr_svg: totp.qr_svg });
			}),
		);

		app.post(
			"/2fa/confirm",
			authenticate(["login"]),
			relay(async (req, res) => {
				const confirmed = await twofold.confirm(res.locals.user.id, String(req.body?.factor_id ?? ""), { code: String(req.body?.code ?? "") });
				res.locals.credential.steppedUp = true;
				res.json({ recovery_codes: confirmed.recovery_codes ?? [] });
			}),
		);

		/** A fresh assertion for what the client is about to do: {code, method, path, body}; path with its query string, if any. */
		app.post(
			"/step-up",
			authenticate(["login"]),
			relay(async (req, res) => {
				const { code, method, path, body } = req.body ?? {};
				const action = typeof method === "string" && typeof path === "string" ? await requestAction(method, path, body) : undefined;
				const verified = await twofold.verify(res.locals.user.id, { code: String(code ?? ""), ...(action ? { action } : {}) });
				res.json({ assertion: verified.assertion });
			}),
		);

	}

	/**
	 * The same steps through the Twofold Prompt: each answers {url}, where the client sends the user's browser;
	 * Twofold does the second factor and returns to /2fa/callback, which finishes what was started.
	 */
	function addPromptRoutes() {
		/** Starts a prompt for the user of this request and remembers what to do when it comes back. */
		const startPrompt = async (res, request, then) => {
			const { url, ...session } = await prompt.start({ userId: res.locals.user.id, ...request });
			// A real app also ties this to the browser's own session cookie; here the state alone finds it.
			pending.set(session.state, { session, credential: res.locals.credential, then, expires: Date.now() + 10 * 60_000 });
			res.json({ url });
		};
		const steppedUp = async ({ credential }) => {
			credential.steppedUp = true;
			return { stepped_up: true };
		};
		app.post("/login/2fa", authenticate(["login", "login-pending"]), relay((_req, res) => startPrompt(res, { intent: "verify" }, steppedUp)));
		app.post("/2fa/setup", authenticate(["login"]), relay((_req, res) => startPrompt(res, { intent: "enroll" }, steppedUp)));
		app.post("/2fa/manage", authenticate(["login"]), relay((_req, res) => startPrompt(res, { intent: "manage" }, steppedUp)));
		/** The email change, approved on Twofold's page with the change bound: made when the approval comes back. */
		app.post(
			"/account/email/change",
			authenticate(["login"]),
			relay(async (req, res) => {
				const email = req.body?.email;
				if (typeof email !== "string") return fail(res, 400, "invalid_request", "email");
				const action = await requestAction("POST", "/account/email", { email });
				await startPrompt(res, { action, description: `Change your email address to ${email}` }, async ({ credential, result }) => {
					// Spent once with Twofold (R-AS-5): the same approval cannot make a second change.
					await twofold.redeemAssertion(result.assertion);
					const user = byId(credential.userId);
					users.delete(user.email);
					user.email = email;
					users.set(user.email, user);
					return { email: user.email };
				});
			}),
		);
		app.get(
			"/2fa/callback",
			relay(async (req, res) => {
				const state = typeof req.query.state === "string" ? req.query.state : "";
				const started = pending.get(state);
				pending.delete(state); // one callback per start
				if (started === undefined || started.expires < Date.now()) return fail(res, 400, "unknown_prompt", "No prompt of this app is waiting for this answer");
				try {
					const result = await prompt.callback(req.originalUrl, started.session);
					res.json(await started.then({ credential: started.credential, result }));
				} catch (error) {
					if (error instanceof PromptError && error.reason === "authorization_error") return fail(res, 403, error.code, "The second factor was not given");
					throw error;
				}
			}),
		);
	}

	app.post("/tokens", authenticate(["login"]), (_req, res) => {
		const token = newToken();
		tokens.set(token, { userId: res.locals.user.id, kind: "api", steppedUp: false });
		res.status(201).json({ token });
	});

	app.get("/me", authenticate(["login", "api"]), (_req, res) => res.json({ id: res.locals.user.id, email: res.locals.user.email, credential: res.locals.credential.kind }));
	app.get("/records", authenticate(["login", "api"]), (_req, res) => res.json({ records: [] }));

	app.post("/account/email", authenticate(["login"]), stepUp(true), (req, res) => {
		const { user } = res.locals;
		if (typeof req.body?.email !== "string") return fail(res, 400, "invalid_request", "email");
		users.delete(user.email);
		user.email = req.body.email;
		users.set(user.email, user);
		res.json({ email: user.email });
	});

	app.post(
		"/account/delete",
		authenticate(["login"]),
		stepUp(true),
		relay(async (_req, res) => {
			const { user } = res.locals;
			await twofold.deleteUser(user.id);
			users.delete(user.email);
			for (const [token, credential] of tokens) if (credential.userId === user.id) tokens.delete(token);
			res.json({ deleted: true });
		}),
	);

	/**
	 * Disabling 2FA: the (unbound) assertion is also Twofold's proof for removing the
	 * factor it came from, and Twofold spends it there (R-LC-4): one proof, one removal.
	 */
	app.post(
		"/2fa/disable",
		authenticate(["login"]),
		stepUp(false),
		relay(async (req, res) => {
			const { user, twofold: claims } = res.locals;
			if (claims.factor_id === undefined) return fail(res, 400, "factor_required", "Step up with the factor to remove, not a recovery code");
			await twofold.deleteFactor(user.id, claims.factor_id, { assertion: req.get("twofold-assertion") });
			res.json({ removed: claims.factor_id, second_factor: await hasSecondFactor(user.id) });
		}),
	);

	const server = app.listen(port, "127.0.0.1");
	await new Promise((resolve, reject) => server.once("listening", resolve).once("error", reject));
	const url = `http://127.0.0.1:${server.address().port}`;
	if (promptOptions !== undefined) prompt = createPromptClient({ ...promptOptions, redirectUri: `${url}/2fa/callback` });
	return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const { TWOFOLD_URL = "http://127.0.0.1:8080", TWOFOLD_API_KEY, TWOFOLD_TENANT, TWOFOLD_ISSUER, TWOFOLD_CLIENT_ID, TWOFOLD_CLIENT_SECRET, PORT = "3000" } = process.env;
	if (!TWOFOLD_API_KEY || !TWOFOLD_TENANT) {
		console.error("TWOFOLD_API_KEY and TWOFOLD_TENANT (the tenant id, the audience of its assertions) are required.");
		process.exit(2);
	}
	// With a client registered for the app (twofold clients create … --redirect-uri http://127.0.0.1:3000/2fa/callback), the prompt mode.
	const prompt = TWOFOLD_CLIENT_ID && TWOFOLD_CLIENT_SECRET ? { issuer: `${TWOFOLD_ISSUER ?? TWOFOLD_URL}/t/${TWOFOLD_TENANT}`, clientId: TWOFOLD_CLIENT_ID, clientSecret: TWOFOLD_CLIENT_SECRET } : undefined;
	const app = await startApp({ twofoldUrl: TWOFOLD_URL, apiKey: TWOFOLD_API_KEY, tenantId: TWOFOLD_TENANT, issuer: TWOFOLD_ISSUER ?? TWOFOLD_URL, port: Number(PORT), prompt });
	console.log(`Example app at ${app.url}`);
}
