// The hosted prompt under load (issue 15), beside the API verify of the same run (bench/run.mjs). Three loads, each
// a fixed number of requests (BENCH_PROMPT_REQUESTS) under autocannon with the run's connections, each request on
// something prepared beforehand so that nothing is replayed and the load generator does no protocol work:
//   1. GET /t/{tenant}/authorize?client_id&request_uri: the provider's authorization endpoint with a fresh pushed
//      request (PAR made beforehand, one per request): checks the request_uri, creates the interaction, answers 303
//      to the interaction page. Expected status 303.
//   2. GET /t/{tenant}/interaction/{uid}: the verify page's first view, one fresh interaction per request (PAR and
//      /authorize made beforehand, with the provider's interaction cookie): loads the interaction, creates the
//      prompt session (a row), lists the user's factors, renders the page. Expected 200.
//   3. POST /t/{tenant}/interaction/{uid}/verify with a correct code: one fresh interaction per request whose page was
//      viewed beforehand (session cookie and CSRF token), each for a different seeded user with an unused time step
//      (users drawn from the same sequence as the API verify's, so none is used twice): checks CSRF, verifies
//      through services.verifications.verify (the API's path), records the proof and finishes the interaction with the
//      provider; answered 303 to /authorize/{uid}. The provider's resume and the code exchange that follow are not in it.
//      Expected 303.
// Latencies are autocannon's (closed loop, the run's connections), so at saturation p50 is mostly queueing:
// compare each with the API verify's under the same connections, and the requests per second.
import autocannon from "autocannon";
import { createHash, randomBytes } from "node:crypto";

const REDIRECT = "https://app.bench.example/callback";

/** A cookie jar of one browser: every cookie set is kept (paths are not enforced; each jar serves one interaction). */
export class Jar {
	cookies = new Map();
	take(response) {
		for (const line of response.headers.getSetCookie()) {
			const [pair] = line.split(";");
			const at = pair.indexOf("=");
			const value = pair.slice(at + 1);
			if (value === "" || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(pair.slice(0, at));
			else this.cookies.set(pair.slice(0, at), value);
		}
	}
	header() {
		return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
	}
}

/** Runs fn over 0..count-1 with `width` in flight at once. */
export async function inParallel(count, width, fn) {
	const results = new Array(count);
	let next = 0;
	await Promise.all(
		Array.from({ length: Math.min(width, count) }, async () => {
			while (next < count) {
				const i = next++;
				results[i] = await fn(i);
			}
		}),
	);
	return results;
}

/** Registers a client for the bench tenant; returns what the prompt loads need. */
export async function promptSetup({ url, apiKey }) {
	const call = async (method, path, body) => {
		const response = await fetch(`${url}${path}`, {
			method,
			headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		const json = await response.json();
		if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
		return json;
	};
	const tenant = (await call("GET", "/v1/tenant")).id;
	const created = await call("POST", "/v1/clients", { name: "Bench shop", redirect_uris: [REDIRECT] });
	return { url, apiKey, tenant, clientId: created.client.client_id, clientSecret: created.client_secret, issuerPath: `/t/${tenant}` };
}

async function par(setup, userId, extra = {}) {
	const verifier = randomBytes(32).toString("base64url");
	const response = await fetch(`${setup.url}${setup.issuerPath}/par`, {
		method: "POST",
		headers: {
			authorization: `Basic ${Buffer.from(`${encodeURIComponent(setup.clientId)}:${encodeURIComponent(setup.clientSecret)}`).toString("base64")}`,
			"content-type": "application/x-www-form-urlencoded",
		},
		body: new URLSearchParams({
			response_type: "code",
			client_id: setup.clientId,
			scope: "openid",
			redirect_uri: REDIRECT,
			state: randomBytes(12).toString("base64url"),
			nonce: randomBytes(12).toString("base64url"),
			code_challenge: createHash("sha256").update(verifier).digest("base64url"),
			code_challenge_method: "S256",
			login_hint: userId,
			...extra,
		}),
	});
	const json = await response.json();
	if (response.status !== 201) throw new Error(`PAR: ${response.status} ${JSON.stringify(json)}`);
	return json.request_uri;
}

const authorizePath = (setup, requestURI) => `${setup.issuerPath}/authorize?${new URLSearchParams({ client_id: setup.clientId, request_uri: requestURI })}`;

/** PAR, then /authorize as a browser: the interaction page's path and the jar holding the provider's cookie. */
async function interaction(setup, userId, extra) {
	const jar = new Jar();
	const response = await fetch(`${setup.url}${authorizePath(setup, await par(setup, userId, extra))}`, { redirect: "manual" });
	if (response.status !== 303) throw new Error(`authorize: ${response.status} ${await response.text()}`);
	jar.take(response);
	return { page: response.headers.get("location"), jar };
}

/** An interaction whose page was viewed: its session cookie and CSRF token, as a browser holds them before posting. */
async function viewed(setup, userId, extra) {
	const { page, jar } = await interaction(setup, userId, extra);
	const response = await fetch(`${setup.url}${page}`, { headers: { cookie: jar.header() } });
	const html = await response.text();
	if (response.status !== 200) throw new Error(`page: ${response.status} ${html.slice(0, 200)}`);
	jar.take(response);
	const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
	if (csrf === undefined) throw new Error("the page has no CSRF token");
	return { page, jar, csrf, html };
}

/** The Location header's path (autocannon keeps the header names as sent; the provider sends "Location"). */
function locationOf(headers) {
	const name = Object.keys(headers).find((key) => key.toLowerCase() === "location");
	const value = name === undefined ? "" : String(headers[name]);
	return value === "" ? "" : new URL(value, "http://x").pathname;
}

/**
 * A fixed-count load over prepared items. A response counts as expected only with expectedStatus and when
 * expected(body, headers) holds (a 303 to the interaction, not to the application with an error), so an expired
 * request_uri or a refused code cannot pass as a success.
 */
function loadPrepared(url, connections, items, request, expectedStatus, expected) {
	let k = 0;
	let good = 0;
	return new Promise((resolve, reject) => {
		const instance = autocannon(
			{
				url,
				connections,
				amount: items.length,
				requests: [
					{
						setupRequest: (base) => ({ ...base, ...request(items[Math.min(k++, items.length - 1)]) }),
						onResponse: (status, body, _context, headers) => {
							if (status === expectedStatus && expected(body ?? "", headers ?? {})) good++;
						},
					},
				],
			},
			(error, result) => {
				if (error) return reject(error);
				resolve({
					// A few seconds of load: autocannon's per-second average would round to its buckets; this is the exact rate.
					requests: { ...result.requests, average: result.requests.total / Math.max(0.01, result.duration) },
					latency: result.latency,
					"2xx": good,
					non2xx: result.requests.total - good,
					errors: result.errors,
					timeouts: result.timeouts,
					statuses: Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count])),
				});
			},
		);
		autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
	});
}

/**
 * One round of the three prompt loads. nextUser(): the index of a seeded user whose steps are unused; codeOf(i): that
 * user's code now; measure(run): wraps each load (bench/run.mjs adds the server's CPU time per request). Returns the
 * three results in load()'s shape, with `statuses`.
 */
export async function promptRound({ setup, connections, requests, nextUser, codeOf, prepareWidth = 8, measure = (run) => run() }) {
	// 1. /authorize: fresh pushed requests.
	const uris = await inParallel(requests, prepareWidth, (i) => par(setup, `user-${i}`));
	const authorize = await measure(() => loadPrepared(setup.url, connections, uris, (uri) => ({ method: "GET", path: authorizePath(setup, uri) }), 303, (_body, headers) => locationOf(headers).startsWith(`${setup.issuerPath}/interaction/`)));
	// 2. The verify page's first view: fresh interactions.
	const pages = await inParallel(requests, prepareWidth, (i) => interaction(setup, `user-${i}`));
	const page = await measure(() => loadPrepared(setup.url, connections, pages, ({ page, jar }) => ({ method: "GET", path: page, headers: { cookie: jar.header() } }), 200, (body) => body.includes('autocomplete="one-time-code"')));
	// 3. The code post: viewed interactions of users whose next code is unused.
	const posts = await inParallel(requests, prepareWidth, async () => {
		const user = nextUser();
		return { user, ...(await viewed(setup, `user-${user}`)) };
	});
	const post = await measure(() => loadPrepared(
		setup.url,
		connections,
		posts,
		({ user, page, jar, csrf }) => ({
			method: "POST",
			path: `${page}/verify`,
			headers: { cookie: jar.header(), "content-type": "application/x-www-form-urlencoded" },
			// The code computed when the request is sent (one HMAC), so a step change during the load does not age it.
			body: new URLSearchParams({ csrf, code: codeOf(user) }).toString(),
		}),
		303,
		(_body, headers) => locationOf(headers).startsWith(`${setup.issuerPath}/authorize/`),
	));
	return { authorize, page, post };
}

/** Bytes on the wire of a response without compression: status line, headers and body. */
async function wireSize(response) {
	const body = Buffer.from(await response.arrayBuffer());
	let head = `HTTP/1.1 ${response.status} ${response.statusText}\r\n`;
	for (const [name, value] of response.headers) head += `${name}: ${value}\r\n`;
	return { body, bytes: Buffer.byteLength(`${head}\r\n`) + body.length };
}

/** The same-origin subresources a page loads: stylesheets, module scripts and images by path. */
const subresources = (html) => [...html.matchAll(/<(?:link[^>]+href|script[^>]+src|img[^>]+src)="(\/[^"]+)"/g)].map((m) => m[1].replaceAll("&amp;", "&"));

/**
 * Each page's transferred size: the HTML and the same-origin files it loads (stylesheet, theme, scripts, logos),
 * each counted once, with the passkey module apart (the issue's 60 KB budget leaves it out). Pages: verify (a seeded
 * user), lost access, the enrollment choice and the authenticator-app setup (with its QR code; a user with no
 * factor, the default policy `enroll`), the recovery codes shown after confirming, and manage (after a proof).
 * nextUser/codeOf as in promptRound (the manage walk spends one user's step).
 */
export async function promptPageSizes({ setup, nextUser, codeOf, codeFor }) {
	const pages = [];
	const measure = async (name, response) => {
		const { body, bytes } = await wireSize(response);
		const html = body.toString("utf8");
		let assets = 0;
		let passkey = 0;
		const requests = [];
		for (const path of new Set(subresources(html))) {
			const sub = await wireSize(await fetch(`${setup.url}${path}`));
			if (path.includes("passkey")) passkey += sub.bytes;
			else assets += sub.bytes;
			requests.push(path.split("?")[0]);
		}
		const external = [...html.matchAll(/(?:href|src|action)="(https?:)?\/\/[^"]*"/g)].length;
		const title = /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? "";
		pages.push({ page: name, title, status: response.status, html_bytes: bytes, asset_bytes: assets, total_kb: Number(((bytes + assets) / 1024).toFixed(1)), passkey_module_bytes: passkey, other_origin_refs: external, loads: requests.join(" ") });
		return html;
	};
	// A form post as a browser makes it: a 303 is followed to the page it names.
	const post = async (page, jar, form) => {
		const response = await fetch(`${setup.url}${page}`, { method: "POST", redirect: "manual", headers: { cookie: jar.header(), "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });
		jar.take(response);
		if (response.status !== 303) return response;
		return fetch(new URL(response.headers.get("location"), setup.url), { headers: { cookie: jar.header() } });
	};

	// Verify and lost access, for a seeded user.
	const seeded = await interaction(setup, "user-0");
	const verify = await fetch(`${setup.url}${seeded.page}`, { headers: { cookie: seeded.jar.header() } });
	seeded.jar.take(verify);
	await measure("verify", verify);
	await measure("lost access", await fetch(`${setup.url}${seeded.page}/lost`, { headers: { cookie: seeded.jar.header() } }));

	// Enrollment for a user with no factor: choice, app setup (QR code), then the recovery codes after confirming.
	const fresh = await viewed(setup, `prompt-sizes-${randomBytes(4).toString("hex")}`);
	await measure("enroll: choice", await fetch(`${setup.url}${fresh.page}`, { headers: { cookie: fresh.jar.header() } }));
	const setupPage = await post(`${fresh.page}/enroll`, fresh.jar, { csrf: fresh.csrf, kind: "totp", label: "" });
	const setupHTML = await measure("enroll: authenticator app (QR)", setupPage);
	const secret = /\b([A-Z2-7]{4}(?:[ \u00a0][A-Z2-7]{4}){3,})\b/.exec(setupHTML)?.[1]?.replace(/\s/g, "");
	if (secret !== undefined) {
		await measure("recovery codes", await post(`${fresh.page}/enroll/confirm`, fresh.jar, { csrf: fresh.csrf, code: codeFor(secret) }));
	}

	// Manage: a seeded user, intent=manage, after a proof with an unused step.
	const user = nextUser();
	const manage = await viewed(setup, `user-${user}`, { intent: "manage" });
	await measure("manage", await post(`${manage.page}/verify`, manage.jar, { csrf: manage.csrf, code: codeOf(user) }));
	// The passkey module, which a page loads only when passkeys are offered (none are here: no relying party is set).
	const passkey = await wireSize(await fetch(`${setup.url}/prompt/assets/passkey.js`));
	pages.push({ page: "passkey module (/prompt/assets/passkey.js)", title: "", status: 200, html_bytes: 0, asset_bytes: 0, total_kb: Number((passkey.bytes / 1024).toFixed(1)), passkey_module_bytes: passkey.bytes, other_origin_refs: 0, loads: "" });
	return pages;
}
