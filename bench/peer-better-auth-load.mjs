// The better-auth peer's side of the benchmark (issue 19): its users, the two-factor sign-ins prepared before each
// load, the requests of a load, and the replay probe. The server is bench/peer-better-auth.mjs.
//
// better-auth's flow, as its two-factor docs give it, done over HTTP against the running server:
//   1. POST /api/auth/sign-up/email {email, password, name}: a user and a session cookie (the password hashed, scrypt).
//   2. POST /api/auth/two-factor/enable {password} with that session: the TOTP secret in an otpauth:// URI.
//   3. POST /api/auth/two-factor/verify-totp {code} with that session: the first code; TOTP is on from then.
//   4. POST /api/auth/sign-in/email {email, password}: with TOTP on, no session, but {twoFactorRedirect: true} and a
//      pending two-factor cookie (better-auth.two_factor).
// A load times step 5 alone, one pending cookie per request, each consumed by its success:
//   5. POST /api/auth/two-factor/verify-totp {code} with a pending cookie: 200 and a session cookie.
// Steps 1, 2 and 4 each cost a scrypt on the server (N=16384, r=16), so they are paid before the load, never in it:
// the users once, the sign-ins before each round's load, as many as that load can use.
// Every request sends Origin, as a browser does: better-auth refuses a cookie-bearing POST without one.
import { generateTOTP } from "../packages/server/dist/core/totp.js";
import { decodeBase32 } from "../packages/server/dist/core/base32.js";
import { inParallel, Jar } from "./prompt-load.mjs";

export const VERIFY_PATH = "/api/auth/two-factor/verify-totp";
const PASSWORD = "bench-peer-password-1";
const STEP_MS = 30_000;

const stepOf = (milliseconds) => Math.floor(milliseconds / STEP_MS);
/** better-auth's TOTP: 6 digits, 30-second steps, HMAC-SHA1 (its createOTP defaults, which the server keeps). */
const totpAt = (key, milliseconds) => generateTOTP({ key, nowInMilliseconds: milliseconds, periodInSeconds: 30, digits: 6, algorithm: "SHA1" });
const sleep = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** A JSON POST; cookies from the jar, or a Cookie header made beforehand; the jar keeps what the answer sets. */
async function post(url, path, body, { jar, cookie = jar?.header() } = {}) {
	const response = await fetch(`${url}${path}`, {
		method: "POST",
		headers: { "content-type": "application/json", origin: url, ...(cookie ? { cookie } : {}) },
		body: JSON.stringify(body),
	});
	const text = await response.text();
	jar?.take(response);
	return { status: response.status, json: text === "" ? null : JSON.parse(text) };
}

async function expectOK(url, path, body, jar) {
	const result = await post(url, path, body, { jar });
	if (result.status !== 200) throw new Error(`better-auth ${path}: ${result.status} ${JSON.stringify(result.json)}`);
	return result;
}

/**
 * Steps 1 to 3 for one synthetic user: its email, TOTP key, and the step its first code belongs to. That code is the
 * previous step's, which better-auth's window of ±1 step accepts, so the user's code of the current step is still
 * unused when its first load comes; if the step turned before a busy server checked it, the current step's.
 */
async function enrollOne(url, name) {
	const jar = new Jar();
	const email = `${name}@bench.example`;
	await expectOK(url, "/api/auth/sign-up/email", { email, password: PASSWORD, name }, jar);
	const { json } = await expectOK(url, "/api/auth/two-factor/enable", { password: PASSWORD }, jar);
	const secret = new URL(json.totpURI).searchParams.get("secret");
	const key = secret === null ? null : decodeBase32(secret);
	if (key === null) throw new Error(`better-auth gave no base32 secret in ${name}'s TOTP URI`);
	let at = Date.now() - STEP_MS;
	if ((await post(url, VERIFY_PATH, { code: totpAt(key, at) }, { jar })).status !== 200) {
		at = Date.now();
		await expectOK(url, VERIFY_PATH, { code: totpAt(key, at) }, jar);
	}
	return { email, key, lastStep: stepOf(at) };
}

/** Step 4: a pending two-factor sign-in, as the Cookie header a browser sends with its code. */
async function pendingSignIn(url, user) {
	const jar = new Jar();
	const { json } = await expectOK(url, "/api/auth/sign-in/email", { email: user.email, password: PASSWORD }, jar);
	if (json?.twoFactorRedirect !== true) throw new Error(`better-auth signed ${user.email} in without asking for a second factor`);
	return jar.header();
}

/** Enrolls `users` synthetic users with TOTP on, `width` at a time (the server's scrypts run on libuv's thread pool). */
export async function enrollPeerUsers({ url, users, width = 8, log = () => {} }) {
	const run = Date.now().toString(36);
	const started = Date.now();
	const list = await inParallel(users, width, (i) => enrollOne(url, `peer-${run}-${i}`));
	log(`better-auth: ${users} users enrolled (sign-up, enable, first code) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
	return { url, users: list, width, log, probeUser: () => enrollOne(url, `peer-${run}-probe-${Date.now().toString(36)}`) };
}

/**
 * Before a load: `count` users not used in the current time step signed in (one pending cookie each), least
 * recently used first, so no user's code is sent twice in one step, as in Twofold's load (bench/run.mjs). When too
 * few are free in this step, it waits for the next (at most one step). Returns the round the load draws from.
 */
export async function preparePeerRound(setup, count) {
	const free = () => setup.users.filter((user) => user.lastStep < stepOf(Date.now()));
	if (free().length < count && setup.users.length > free().length) await sleep(STEP_MS - (Date.now() % STEP_MS) + 100);
	const chosen = free()
		.sort((a, b) => a.lastStep - b.lastStep)
		.slice(0, count);
	const started = Date.now();
	const cookies = await inParallel(chosen.length, setup.width, (i) => pendingSignIn(setup.url, chosen[i]));
	const seconds = (Date.now() - started) / 1000;
	setup.log(`better-auth: ${chosen.length} pending two-factor sign-ins (password checked) in ${seconds.toFixed(1)} s (${(chosen.length / seconds).toFixed(0)}/s)`);
	return { url: setup.url, users: chosen, cookies, next: 0, exhausted: 0, codes: new Map() };
}

/**
 * Just before the load: each prepared user's code for this time step and the next (a load is shorter than a step),
 * so the load generator computes no HMAC per request, as for Twofold's load in bench/run.mjs.
 */
export function preparePeerCodes(round) {
	const step = stepOf(Date.now());
	round.codes = new Map([step, step + 1].map((s) => [s, round.users.map((user) => totpAt(user.key, s * STEP_MS))]));
}

/**
 * The next request of a load: a prepared user not used before, with its pending cookie and current code. Past the
 * last one, a request that cannot succeed (no cookie) is sent and counted in round.exhausted: no code and no cookie
 * is ever replayed, and the shortfall shows.
 */
export function nextPeerRequest(round) {
	const i = round.next++;
	const user = round.users[i];
	if (user === undefined) {
		round.exhausted++;
		return { path: VERIFY_PATH, headers: { origin: round.url }, body: '{"code":"000000"}' };
	}
	const now = Date.now();
	user.lastStep = stepOf(now);
	const code = round.codes.get(user.lastStep)?.[i] ?? totpAt(user.key, now);
	return { path: VERIFY_PATH, headers: { origin: round.url, cookie: round.cookies[i] }, body: `{"code":"${code}"}` };
}

/**
 * The replay probe: a user of its own signed in twice (two pending cookies), the same code sent with each, in one
 * time step. Returns both statuses; the second is 200 when better-auth accepted the replayed code.
 */
export async function peerReplayProbe(setup) {
	const user = await setup.probeUser();
	// The code is sent twice within its own step, with a margin (better-auth's ±1 window would accept a code a step
	// old anyway, but the probe is about the same code in the same step); its enrollment used an earlier step's.
	// A machine that stalls past the step's end gets another try in the next step, with a new code.
	for (let attempt = 1; attempt <= 3; attempt++) {
		const cookies = [await pendingSignIn(setup.url, user), await pendingSignIn(setup.url, user)];
		if (Date.now() % STEP_MS > STEP_MS - 5000) await sleep(STEP_MS - (Date.now() % STEP_MS) + 100);
		const now = Date.now();
		const code = totpAt(user.key, now);
		const first = await post(setup.url, VERIFY_PATH, { code }, { cookie: cookies[0] });
		const second = await post(setup.url, VERIFY_PATH, { code }, { cookie: cookies[1] });
		if (stepOf(Date.now()) === stepOf(now)) return { first: first.status, second: second.status, acceptedTwice: first.status === 200 && second.status === 200 };
	}
	throw new Error("the replay probe crossed a time step three times: is the machine stalling for seconds?");
}
