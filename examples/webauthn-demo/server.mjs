#!/usr/bin/env node
/**
 * Twofold WebAuthn demo: the backend of an application that keeps its own login
 * and calls Twofold for the second factor. It holds the Twofold API key; the
 * page never sees it. The page loads Twofold's browser helper (GET /v1/browser.js)
 * and runs the ceremonies; this server relays options and responses.
 *
 *   TWOFOLD_URL=http://127.0.0.1:8080 TWOFOLD_API_KEY=tfk_... node examples/webauthn-demo/server.mjs
 *   then open http://localhost:5173 (set the tenant's rp_id to "localhost" and its
 *   origins to ["http://localhost:5173"] first; the page says how).
 *
 * The user id field stands in for the application's own session: a real
 * application takes the user id from its login, never from the page.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

const PAGE = readFileSync(new URL("./index.html", import.meta.url), "utf8");
const BODY_LIMIT = 64 * 1024;

/** Reads a JSON body of at most 64 KiB; null when it is not JSON. */
async function readJSON(request) {
	let size = 0;
	const chunks = [];
	for await (const chunk of request) {
		size += chunk.length;
		if (size > BODY_LIMIT) return null;
		chunks.push(chunk);
	}
	try {
		return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
	} catch {
		return null;
	}
}

function send(response, status, body) {
	if (status === 204) return void response.writeHead(204).end();
	response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
	response.end(JSON.stringify(body));
}

/**
 * Starts the demo backend.
 * @param {{ twofoldUrl: string, apiKey: string, port?: number, host?: string }} options
 * @returns {Promise<{ url: string, port: number, close(): Promise<void> }>}
 */
export async function startDemo({ twofoldUrl, apiKey, port = 5173, host = "127.0.0.1" }) {
	const twofold = new URL(twofoldUrl).origin;

	/** One call to Twofold's API with the application's key; Twofold's status and body are passed on as they are. */
	async function call(method, path, body) {
		const response = await fetch(`${twofold}/v1${path}`, {
			method,
			headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		const text = await response.text();
		return { status: response.status, body: text ? JSON.parse(text) : {} };
	}

	/**
	 * A path segment from the page's input, encoded so "/" cannot reach another Twofold route.
	 * URL parsing resolves "." and ".." (even as %2e) before Twofold sees them, so those are refused here.
	 */
	const segment = (value) => {
		const text = String(value ?? "");
		if (text === "" || /^(\.|%2e){1,2}$/i.test(text)) throw new RangeError("user and factor ids must be non-empty and not a dot segment");
		return encodeURIComponent(text);
	};
	/** A proof from an existing factor (R-LC-1): the page's held assertion, passed through as Twofold expects it. */
	const proofOf = (body) => (body.proof ? { challenge_id: body.proof.challenge_id, credential: body.proof.credential } : {});

	const routes = {
		"GET /api/factors": (_body, query) => call("GET", `/users/${segment(query.get("user"))}/factors`),
		"POST /api/passkeys/start": (body) => call("POST", `/users/${segment(body.user)}/factors`, { type: "webauthn", ...(body.label ? { label: body.label } : {}), ...proofOf(body) }),
		"POST /api/passkeys/finish": (body) => call("POST", `/users/${segment(body.user)}/factors/${segment(body.factor_id)}/confirm`, { credential: body.credential }),
		"POST /api/passkeys/remove": (body) => call("DELETE", `/users/${segment(body.user)}/factors/${segment(body.factor_id)}`, proofOf(body)),
		"POST /api/challenge": (body) => call("POST", `/users/${segment(body.user)}/challenges`, { type: "webauthn" }),
		"POST /api/verify": (body) => call("POST", `/users/${segment(body.user)}/verify`, { challenge_id: body.challenge_id, credential: body.credential }),
	};

	const server = createServer(async (request, response) => {
		const url = new URL(request.url ?? "/", "http://demo");
		if (request.method === "GET" && url.pathname === "/") {
			response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
			// The helper's address goes in as a JSON string literal, so no markup can come in with it.
			response.end(PAGE.replace("\"%TWOFOLD_URL%\"", JSON.stringify(twofold).replaceAll("<", "\\u003c")));
			return;
		}
		const route = routes[`${request.method} ${url.pathname}`];
		if (!route) return send(response, 404, { error: { code: "not_found", message: "No such demo route." } });
		const body = request.method === "POST" ? await readJSON(request) : {};
		if (body === null || typeof body !== "object") return send(response, 400, { error: { code: "invalid_request", message: "The body must be a JSON object." } });
		try {
			const result = await route(body, url.searchParams);
			send(response, result.status, result.body);
		} catch (error) {
			if (error instanceof RangeError) return send(response, 400, { error: { code: "invalid_request", message: error.message } });
			send(response, 502, { error: { code: "twofold_unreachable", message: `Twofold did not answer: ${error.message}` } });
		}
	});
	await new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, host, resolve);
	});
	const bound = server.address().port;
	return {
		url: `http://localhost:${bound}`,
		port: bound,
		close: () => new Promise((resolve) => server.close(() => resolve())),
	};
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const apiKey = process.env.TWOFOLD_API_KEY;
	if (!apiKey) {
		console.error("TWOFOLD_API_KEY is required: the API key of the tenant this demo acts for.");
		process.exit(2);
	}
	const demo = await startDemo({
		twofoldUrl: process.env.TWOFOLD_URL ?? "http://127.0.0.1:8080",
		apiKey,
		port: Number(process.env.PORT ?? 5173),
	});
	console.log(`Twofold WebAuthn demo at ${demo.url}`);
	console.log(`The tenant needs: {"webauthn":{"rp_id":"localhost","rp_name":"Demo","origins":["${demo.url}"]}} (PATCH /v1/tenant, admin key)`);
}
