import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/contract/errors.js";
import { buildTestApp, DIALECTS, enrollActive, type TestApp } from "../helpers.js";

/**
 * Issue 13, "Validation errors that name the problem": every 400 names each
 * field as a JSON pointer and says what was expected (allowed values, limit,
 * the missing or extra field's name), one detail per problem, and never
 * echoes a value of the request (R-ST-4: a body may carry a code).
 */
interface Case {
	name: string;
	method: "POST" | "PATCH" | "GET";
	url: string;
	/** A JSON value, or raw text sent as application/json. */
	body?: unknown;
	raw?: string;
	/** The catalog code; invalid_request unless given. */
	code?: string;
	/** Set up what the request needs first (an active factor, a WebAuthn relying party). */
	before?: (t: TestApp) => Promise<void>;
	/** One entry per problem, in order: the pointer and the words its message must contain. */
	problems: { in?: "body" | "query"; pointer: string; words: string[] }[];
}

const LONG = "x".repeat(300);

const CASES: Case[] = [
	// Enroll: a discriminated body, so a wrong or missing type is one problem naming the allowed types.
	{ name: "enroll: unknown type", method: "POST", url: "/v1/users/val-u/factors", body: { type: "sms-canary" }, problems: [{ pointer: "/type", words: ["one of", "totp", "webauthn"] }] },
	{ name: "enroll: no type", method: "POST", url: "/v1/users/val-u/factors", body: {}, problems: [{ pointer: "/type", words: ["one of", "totp", "webauthn"] }] },
	{
		name: "enroll: an extra field is named, with the allowed ones",
		method: "POST",
		url: "/v1/users/val-u/factors",
		body: { type: "totp", lable: "canary-label" },
		problems: [{ pointer: "/lable", words: ["not an allowed field", "label", "issuer", "digits"] }],
	},
	{ name: "enroll: a 300-character label names its limit", method: "POST", url: "/v1/users/val-u/factors", body: { type: "totp", label: LONG }, problems: [{ pointer: "/label", words: ["at most 128 characters"] }] },
	{
		name: "enroll: three bad TOTP settings, three details",
		method: "POST",
		url: "/v1/users/val-u/factors",
		body: { type: "totp", algorithm: "MD5-canary", digits: "6six", period: 7777 },
		problems: [
			{ pointer: "/algorithm", words: ["one of", "SHA1", "SHA256", "SHA512"] },
			{ pointer: "/digits", words: ["one of", "6, 7, 8"] },
			{ pointer: "/period", words: ["whole number", "15", "120"] },
		],
	},
	{
		name: "enroll: a TOTP field in a WebAuthn body is judged against the WebAuthn variant only",
		method: "POST",
		url: "/v1/users/val-u/factors",
		body: { type: "webauthn", period: 4444 },
		problems: [{ pointer: "/period", words: ["not an allowed field", "label"] }],
	},
	{ name: "enroll: a label with a colon", method: "POST", url: "/v1/users/val-u/factors", body: { type: "totp", label: "canary:label" }, problems: [{ pointer: "/label", words: ["':'"] }] },
	{ name: "enroll: an array body", method: "POST", url: "/v1/users/val-u/factors", body: ["canary-item"], problems: [{ pointer: "", words: ["JSON object"] }] },
	// Confirm.
	{
		name: "confirm: an extra field",
		method: "POST",
		url: "/v1/users/val-u/factors/fac_x/confirm",
		body: { codes: "246813" },
		problems: [{ pointer: "/codes", words: ["not an allowed field", "code", "credential"] }],
	},
	{ name: "confirm: a string body", method: "POST", url: "/v1/users/val-u/factors/fac_x/confirm", body: "135792", problems: [{ pointer: "", words: ["JSON object"] }] },
	// Verify.
	{ name: "verify: no proof", method: "POST", url: "/v1/users/val-u/verify", body: {}, problems: [{ pointer: "/code", words: ["required", "challenge_id", "credential"] }] },
	{ name: "verify: malformed JSON is named, not quoted", method: "POST", url: "/v1/users/val-u/verify", raw: '{"code":"975310', problems: [{ pointer: "", words: ["not valid JSON"] }] },
	{ name: "verify: an empty JSON body", method: "POST", url: "/v1/users/val-u/verify", raw: "", problems: [{ pointer: "", words: ["empty"] }] },
	{
		name: "verify: a tenant id as audience",
		method: "POST",
		url: "/v1/users/val-u/verify",
		body: { code: "864202", audience: "ten_canary" },
		problems: [{ pointer: "/audience", words: ["must not start with ten_"] }],
	},
	{
		name: "verify: mistyped options, one detail each",
		method: "POST",
		url: "/v1/users/val-u/verify",
		body: { code: "864202", first_factor: "yes-canary", factor_id: 12345678, action: "canary-action" },
		problems: [
			{ pointer: "/factor_id", words: ["a string"] },
			{ pointer: "/action", words: ["JSON object"] },
			{ pointer: "/first_factor", words: ["true or false"] },
		],
	},
	// Challenges.
	{ name: "challenges: unknown type", method: "POST", url: "/v1/users/val-u/challenges", body: { type: "totp" }, problems: [{ pointer: "/type", words: ["one of", "webauthn", "email"] }] },
	{ name: "challenges: email without to", method: "POST", url: "/v1/users/val-u/challenges", body: { type: "email" }, problems: [{ pointer: "/to", words: ["required"] }] },
	{
		name: "challenges: webauthn with a to",
		method: "POST",
		url: "/v1/users/val-u/challenges",
		body: { type: "webauthn", to: "canary@example.com" },
		problems: [{ pointer: "/to", words: ["not an allowed field", "type"] }],
	},
	// Tenant PATCH.
	{
		name: "tenant: three nested problems",
		method: "PATCH",
		url: "/v1/tenant",
		body: { totp: { window: 5555 }, webauthn: { rp_id: "HTTPS://CANARY.EXAMPLE", user_verification: "maybe-canary" } },
		problems: [
			{ pointer: "/totp/window", words: ["whole number", "0", "1"] },
			{ pointer: "/webauthn/rp_id", words: ["host name"] },
			{ pointer: "/webauthn/user_verification", words: ["one of", "required", "preferred"] },
		],
	},
	{ name: "tenant: an email text without the code", method: "PATCH", url: "/v1/tenant", body: { email: { text: "no placeholder canary" } }, problems: [{ pointer: "/email/text", words: ["{{code}}"] }] },
	{ name: "tenant: an assertion lifetime out of range", method: "PATCH", url: "/v1/tenant", body: { assertions: { ttl_seconds: 99999 } }, problems: [{ pointer: "/assertions/ttl_seconds", words: ["30", "900"] }] },
	{ name: "tenant: an unknown section", method: "PATCH", url: "/v1/tenant", body: { smtp: { host: "canary.example" } }, problems: [{ pointer: "/smtp", words: ["not an allowed field", "webauthn", "email"] }] },
	// Webhooks.
	{ name: "webhooks: no url", method: "POST", url: "/v1/webhooks", body: { events: ["*"] }, problems: [{ pointer: "/url", words: ["required"] }] },
	{ name: "webhooks: no events", method: "POST", url: "/v1/webhooks", body: { url: "https://canary.example/hook", events: [] }, problems: [{ pointer: "/events", words: ["at least 1 item"] }] },
	{
		name: "webhooks: unknown event types, each by its index",
		method: "POST",
		url: "/v1/webhooks",
		body: { url: "https://canary.example/hook", events: ["*", "user.canary"] },
		problems: [
			{ pointer: "/events/0", words: ["only event type", "*"] },
			{ pointer: "/events/1", words: ["not an event type", "docs/events.md"] },
		],
	},
	{ name: "webhooks: an empty update", method: "PATCH", url: "/v1/webhooks/wh_x", body: {}, problems: [{ pointer: "", words: ["at least one of", "url", "events", "enabled"] }] },
	// The other 400s name their field too, and keep their catalog code and sentence.
	{ name: "enroll: an imported secret that is not base32", method: "POST", url: "/v1/users/val-u/factors", body: { type: "totp", secret: "not-base32-canary!" }, code: "invalid_secret", problems: [{ pointer: "/secret", words: ["base32", "16 bytes"] }] },
	{
		name: "enroll: a second factor without a proof",
		method: "POST",
		url: "/v1/users/val-active/factors",
		body: { type: "totp", label: "second-canary" },
		code: "proof_required",
		before: async (t) => {
			await enrollActive(t, "val-active");
		},
		problems: [{ pointer: "/code", words: ["required", "challenge_id", "assertion"] }],
	},
	{ name: "webhooks: a URL that is not http(s)", method: "POST", url: "/v1/webhooks", body: { url: "ftp://canary.example/hook", events: ["*"] }, code: "invalid_webhook_url", problems: [{ pointer: "/url", words: ["http or https"] }] },
	{
		name: "tenant: an origin off the relying party",
		method: "PATCH",
		url: "/v1/tenant",
		body: { webauthn: { rp_id: "example.com", rp_name: "Example", origins: ["https://canary.invalid"] } },
		code: "invalid_webauthn_settings",
		problems: [{ pointer: "/webauthn/origins", words: ["https origin", "rp_id"] }],
	},
	// A query parameter, for the `in` field.
	{ name: "events: a page size out of range", method: "GET", url: "/v1/events?limit=5000", problems: [{ in: "query", pointer: "/limit", words: ["1 to 100"] }] },
];

/** Every string and number in a body, as text: none may come back. */
function leaves(value: unknown): string[] {
	if (typeof value === "string") return [value];
	if (typeof value === "number") return [String(value)];
	if (Array.isArray(value)) return value.flatMap(leaves);
	if (typeof value === "object" && value !== null) return Object.values(value).flatMap(leaves);
	return [];
}

describe.each(DIALECTS)("validation errors name the problem (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
		await c.before?.(t);
		const response =
			c.raw === undefined
				? await t.call(c.method, c.url, c.body)
				: await t.http
						.inject({ method: c.method, url: c.url, headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" }, payload: c.raw })
						.then((raw) => ({ status: raw.statusCode, body: raw.body }));
		const json = JSON.parse(response.body);
		expect(response.status, response.body).toBe(400);
		expect(json.error.code).toBe(c.code ?? "invalid_request");
		const details = json.error.details as { in: string; pointer: string; message: string }[];
		// One detail per problem, each pointing at its field.
		expect(details.map((detail) => [detail.in, detail.pointer])).toEqual(c.problems.map((problem) => [problem.in ?? "body", problem.pointer]));
		c.problems.forEach((problem, index) => {
			for (const word of problem.words) expect(details[index]!.message).toContain(word);
		});
		// invalid_request's message is the first problem in a sentence, counting the others; other codes keep the catalog's.
		if (c.code === undefined) {
			expect(json.error.message).toContain(details[0]!.message);
			if (details.length > 1) expect(json.error.message).toContain(`${details.length - 1} more`);
		} else {
			expect(json.error.message).toBe(ERROR_CODES[c.code as keyof typeof ERROR_CODES].message);
		}
		// No value of the request comes back (R-ST-4); the short type names above are the only 3-character values.
		for (const value of [...leaves(c.body), ...(c.raw === undefined ? [] : ["975310"])]) {
			if (value.length >= 4) expect(response.body, value).not.toContain(value);
		}
		expect(response.body).not.toContain("must be equal to constant");
		expect(response.body).not.toContain("anyOf");
	});

	it("a code of the wrong shape is still a counted invalid_code, not a 400 (R-OTP-11, V-2, V-12)", async () => {
		await enrollActive(t, "val-shape");
		for (const code of [123456, ["123456"], " 123456", "12345", { code: "123456" }]) {
			const response = await t.call("POST", "/v1/users/val-shape/verify", { code });
			expect(response.status, JSON.stringify(code)).toBe(422);
			expect(response.json).toEqual({ error: { code: "invalid_code", message: "The code is not valid." } });
		}
		const failures = (await t.call("GET", "/v1/events?user_id=val-shape&type=verification.failed")).json.events;
		expect(failures).toHaveLength(5);
	});
});
