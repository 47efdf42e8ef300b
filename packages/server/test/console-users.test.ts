import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_TENANT_ID } from "../src/core/system-tenant.js";
import { type ConsoleDriver, listenForConsole } from "./console-browser.js";
import { buildTestApp, codeFor, DIALECTS, enrollActive, nextStep, type TestApp } from "./helpers.js";
import { type Browser, csrfOf } from "./prompt-browser.js";

/**
 * Issue 16: support staff find users and act on them in the console, through the same services as the API, every
 * action audited with the operator's name and behind a fresh passkey verification; a viewer reads only; an operator
 * of one tenant reaches nothing of another by editing ids; what a user id or event holds renders inert.
 */
describe.each(DIALECTS)("console users (%s)", (dialect) => {
	let t: TestApp;
	let d: ConsoleDriver;
	let other: { tenantId: string; apiKey: string };
	let support: Browser;
	let viewer: Browser;
	let lockedSecret = "";
	const MINUTE = 60_000;
	const XSS_ID = `<script>alert(1)</script>"onmouseover=alert(2)`;

	const usersOf = (tenantId: string, query = "") => `/console/t/${tenantId}/users${query}`;
	const userPath = (tenantId: string, userId: string) => `/console/t/${tenantId}/users/${encodeURIComponent(userId)}`;
	const eventsOf = async (userId: string, type: string) =>
		((await t.call("GET", `/v1/events?user_id=${encodeURIComponent(userId)}&type=${type}`)).json.events as { data: Record<string, unknown> }[]);

	beforeAll(async () => {
		t = await buildTestApp({ dialect });
		d = await listenForConsole(t);

		// Tenant A (acme): users u-000…u-054, a locked one, and one whose id is markup.
		expect((await t.call("PATCH", "/v1/tenant", { attempts: { lock_after: 3 } })).status).toBe(200);
		for (let index = 0; index < 55; index += 1) await t.call("POST", `/v1/users/u-${String(index).padStart(3, "0")}/factors`, { type: "totp" });
		lockedSecret = (await enrollActive(t, "locked-user")).secret;
		for (let attempt = 0; attempt < 3; attempt += 1) await t.call("POST", "/v1/users/locked-user/verify", { code: "000000" });
		expect((await t.call("GET", "/v1/users/locked-user")).json.locked).toBe(true);
		await enrollActive(t, XSS_ID);
		// Tenant B: a user of its own.
		const b = await t.app.services.tenants.create("bank-b");
		other = { tenantId: b.tenant.id, apiKey: b.apiKey };
		expect((await t.call("POST", "/v1/users/b-user/factors", { type: "totp" }, b.apiKey)).status).toBe(201);

		support = await d.operator(() => t.app.services.operators.create({ name: "sam", role: "support", tenants: [t.tenantId] }), "sam");
		viewer = await d.operator(() => t.app.services.operators.create({ name: "vera", role: "viewer", tenants: [t.tenantId] }), "vera");
	});
	afterAll(() => t?.close());

	it("lists a tenant's users by id prefix and locked, keyset-paged, with no attempt record among them", async () => {
		const home = await (await support.fetch("/console")).text();
		expect(home).toContain(`href="/console/t/${t.tenantId}/users"`);
		expect(home).not.toContain(other.tenantId);
		const first = await (await support.fetch(usersOf(t.tenantId, "?q=u-"))).text();
		const ids = (html: string) => [...html.matchAll(/<td><a href="[^"]+">([^<]+)<\/a><\/td>/g)].map((m) => m[1]);
		expect(ids(first)).toHaveLength(50);
		expect(ids(first)[0]).toBe("u-000");
		const next = /href="([^"]+)" id="next-page"/.exec(first)![1]!.replace(/&amp;/g, "&");
		expect(next).toContain("after=u-049");
		const second = await (await support.fetch(next)).text();
		expect(ids(second)).toEqual(["u-050", "u-051", "u-052", "u-053", "u-054"]);
		expect(second).not.toContain('id="next-page"');
		expect(ids(await (await support.fetch(usersOf(t.tenantId, "?locked=1"))).text())).toEqual(["locked-user"]);
		// A failed attempt on an id that never enrolled makes an attempt record (V-12a): not a user, never listed.
		await t.call("POST", "/v1/users/never-enrolled/verify", { code: "000000" });
		expect(ids(await (await support.fetch(usersOf(t.tenantId, "?q=never"))).text())).toEqual([]);
	});

	it("unlocks after a fresh passkey verification; the audit names the operator, and the user's correct code verifies again", async () => {
		// Signed in more than 5 minutes ago: the action asks for a step-up first.
		t.clock.advance(6 * MINUTE);
		const page = await (await support.fetch(userPath(t.tenantId, "locked-user"))).text();
		expect(page).toContain('id="lock-state">Locked');
		const asked = await support.post(`${userPath(t.tenantId, "locked-user")}/unlock`, { csrf: csrfOf(page) });
		expect(asked.status).toBe(303);
		expect(asked.headers.get("location")).toMatch(/^\/console\/step-up\?next=/);
		expect((await t.call("GET", "/v1/users/locked-user")).json.locked).toBe(true);
		const back = await d.stepUp(support, asked.headers.get("location")!, "sam");
		expect(back.headers.get("location")).toBe(userPath(t.tenantId, "locked-user"));

		const fresh = await (await support.fetch(userPath(t.tenantId, "locked-user"))).text();
		const unlocked = await support.post(`${userPath(t.tenantId, "locked-user")}/unlock`, { csrf: csrfOf(fresh) });
		expect(unlocked.headers.get("location")).toBe(`${userPath(t.tenantId, "locked-user")}?done=unlocked`);
		expect(await (await support.fetch(unlocked.headers.get("location")!)).text()).toContain("The user is unlocked.");
		const [event] = await eventsOf("locked-user", "user.unlocked");
		expect(event!.data).toEqual({ actor: { type: "operator", id: expect.stringMatching(/^opr_/), name: "sam" } });
		nextStep(t.clock);
		expect((await t.call("POST", "/v1/users/locked-user/verify", { code: codeFor(lockedSecret, t.clock()) })).status).toBe(200);
	});

	it("resets a user with a reason: factors and codes gone, the audit names the operator, the user's application gets the security notice", async () => {
		const page = await (await support.fetch(userPath(t.tenantId, "u-001"))).text();
		const blank = await support.post(`${userPath(t.tenantId, "u-001")}/reset`, { csrf: csrfOf(page), reason: "  " });
		expect(blank.status).toBe(400);
		expect(await blank.text()).toContain("Enter the reason for the reset");
		const done = await support.post(`${userPath(t.tenantId, "u-001")}/reset`, { csrf: csrfOf(page), reason: "lost phone, ticket 4711" });
		expect(done.headers.get("location")).toBe(`${userPath(t.tenantId, "u-001")}?done=reset`);
		expect((await t.call("GET", "/v1/users/u-001")).json.factors).toEqual([]);
		const [reset] = await eventsOf("u-001", "admin.factor_reset");
		expect(reset!.data).toMatchObject({ actor: { type: "operator", name: "sam" }, reason: "lost phone, ticket 4711" });
		expect(await eventsOf("u-001", "user.security_notice")).toHaveLength(1);
	});

	it("removes one factor with a reason, and erases a user only when the id is typed again; both audited with the operator", async () => {
		const enrolled = await enrollActive(t, "two-factors");
		const extra = await t.call("POST", "/v1/users/two-factors/factors", { type: "totp", code: (nextStep(t.clock), codeFor(enrolled.secret, t.clock())) });
		expect(extra.status, extra.body).toBe(201);
		const page = await (await support.fetch(userPath(t.tenantId, "two-factors"))).text();
		const blank = await support.post(`${userPath(t.tenantId, "two-factors")}/remove-factor`, { csrf: csrfOf(page), factor: extra.json.factor.id, reason: "" });
		expect(blank.status).toBe(400);
		const removed = await support.post(`${userPath(t.tenantId, "two-factors")}/remove-factor`, { csrf: csrfOf(page), factor: extra.json.factor.id, reason: "left over from a test" });
		expect(removed.headers.get("location")).toBe(`${userPath(t.tenantId, "two-factors")}?done=removed`);
		const [deleted] = await eventsOf("two-factors", "factor.deleted");
		expect(deleted!.data).toMatchObject({ by: "admin", actor: { type: "operator", name: "sam" }, reason: "left over from a test", was: "pending" });
		// Another tenant's factor id, or none, is not found.
		expect((await support.post(`${userPath(t.tenantId, "two-factors")}/remove-factor`, { csrf: csrfOf(page), factor: "fac_nothing", reason: "x" })).status).toBe(404);

		const slip = await support.post(`${userPath(t.tenantId, "two-factors")}/erase`, { csrf: csrfOf(page), confirm: "two-factor" });
		expect(slip.status).toBe(400);
		expect((await t.call("GET", "/v1/users/two-factors")).status).toBe(200);
		const erased = await support.post(`${userPath(t.tenantId, "two-factors")}/erase`, { csrf: csrfOf(page), confirm: "two-factors" });
		expect(erased.headers.get("location")).toBe(`/console/t/${t.tenantId}/users?erased=two-factors`);
		expect(await (await support.fetch(erased.headers.get("location")!)).text()).toContain("The user two-factors was erased.");
		expect((await t.call("GET", "/v1/users/two-factors")).status).toBe(404);
		const [gone] = await eventsOf("two-factors", "user.deleted");
		expect(gone!.data).toMatchObject({ actor: { type: "operator", name: "sam" } });
	});

	it("attack: an operator may unlock at most 10 times an hour (each unlock gives a guesser the whole budget again)", async () => {
		// An operator of their own, so no earlier unlock counts in this hour (the test clock stands still meanwhile).
		const busy = await d.operator(() => t.app.services.operators.create({ name: "busy", role: "support", tenants: [t.tenantId] }), "busy");
		const page = await (await busy.fetch(userPath(t.tenantId, "u-010"))).text();
		const before = (await eventsOf("u-010", "user.unlocked")).length;
		for (let index = 0; index < 10; index += 1) expect((await busy.post(`${userPath(t.tenantId, "u-010")}/unlock`, { csrf: csrfOf(page) })).status).toBe(303);
		const refused = await busy.post(`${userPath(t.tenantId, "u-010")}/unlock`, { csrf: csrfOf(page) });
		expect(refused.status).toBe(429);
		expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
		expect(await refused.text()).toContain("You have made 10 unlocks in the last hour");
		expect((await eventsOf("u-010", "user.unlocked")).length).toBe(before + 10);
		// Another operator is not held back by it.
		expect((await support.post(`${userPath(t.tenantId, "u-010")}/unlock`, { csrf: csrfOf(await (await support.fetch(userPath(t.tenantId, "u-010"))).text()) })).status).toBe(303);
	});

	it("attack: a viewer sees no action and is refused on the server (403) when posting one anyway, fresh session or not", async () => {
		const page = await (await viewer.fetch(userPath(t.tenantId, "u-002"))).text();
		expect(page).toContain("u-002");
		expect(page).not.toContain('id="unlock-form"');
		expect(page).not.toContain('id="reset-form"');
		expect(page).not.toContain('id="erase-form"');
		const before = (await t.call("GET", "/v1/users/u-002")).json.factors.length;
		expect((await viewer.post(`${userPath(t.tenantId, "u-002")}/reset`, { csrf: csrfOf(page), reason: "x" })).status).toBe(403);
		expect((await viewer.post(`${userPath(t.tenantId, "u-002")}/unlock`, { csrf: csrfOf(page) })).status).toBe(403);
		expect((await viewer.post(`${userPath(t.tenantId, "u-002")}/erase`, { csrf: csrfOf(page), confirm: "u-002" })).status).toBe(403);
		expect((await viewer.post(`${userPath(t.tenantId, "u-002")}/remove-factor`, { csrf: csrfOf(page), factor: "x", reason: "x" })).status).toBe(403);
		expect((await t.call("GET", "/v1/users/u-002")).json.factors.length).toBe(before);
	});

	it("attack: another tenant's, the system tenant's, or an unknown tenant's ids in the URL reach nothing (404), and nothing is done", async () => {
		const page = await (await support.fetch("/console")).text();
		for (const tenantId of [other.tenantId, SYSTEM_TENANT_ID, "ten_zzzzzzzzzzzzzzzzzzzzzzzzzz", "nonsense"]) {
			expect((await support.fetch(usersOf(tenantId))).status, tenantId).toBe(404);
			expect((await support.fetch(userPath(tenantId, "b-user"))).status, tenantId).toBe(404);
			expect((await support.post(`${userPath(tenantId, "b-user")}/reset`, { csrf: csrfOf(page), reason: "x" })).status, tenantId).toBe(404);
		}
		expect((await t.call("GET", "/v1/users/b-user", undefined, other.apiKey)).json.factors).toHaveLength(1);
		expect((await support.fetch(userPath(t.tenantId, "nobody"))).status).toBe(404);
	});

	it("attack: forms without the CSRF token are refused (403), and a signed-out browser is sent to sign in", async () => {
		expect((await support.post(`${userPath(t.tenantId, "u-003")}/reset`, { reason: "x" })).status).toBe(403);
		expect((await support.post(`${userPath(t.tenantId, "u-003")}/reset`, { reason: "x", csrf: "forged" })).status).toBe(403);
		expect((await t.call("GET", "/v1/users/u-003")).json.factors).toHaveLength(1);
		const { Browser } = await import("./prompt-browser.js");
		const stranger = new Browser(d.loopback);
		expect((await stranger.fetch(usersOf(t.tenantId))).headers.get("location")).toBe("/console/sign-in");
	});

	it("the events page filters by operator, type, user and day, newest first, 50 a page with a link to older ones", async () => {
		const eventsPath = (query: Record<string, string>) => `/console/t/${t.tenantId}/events?${new URLSearchParams(query)}`;
		const types = (html: string) => [...html.matchAll(/<span class="event-type">([^<]+)<\/span>/g)].map((m) => m[1]);
		const bySam = await (await viewer.fetch(eventsPath({ operator: "sam" }))).text();
		expect(types(bySam).length).toBeGreaterThan(0);
		expect(new Set(types(bySam))).toEqual(new Set(["user.unlocked", "admin.factor_reset", "user.deleted", "factor.deleted"]));
		expect(bySam).toContain("by sam");
		expect(types(await (await viewer.fetch(eventsPath({ operator: "nobody" }))).text())).toEqual([]);
		expect(new Set(types(await (await viewer.fetch(eventsPath({ type: "user.locked" }))).text()))).toEqual(new Set(["user.locked"]));
		expect(new Set(types(await (await viewer.fetch(eventsPath({ user: "u-001" }))).text()))).toEqual(new Set(["factor.created", "admin.factor_reset", "user.security_notice"]));
		const today = new Date(t.clock().getTime()).toISOString().slice(0, 10);
		expect(types(await (await viewer.fetch(eventsPath({ from: today, to: today }))).text()).length).toBe(50);
		expect(types(await (await viewer.fetch(eventsPath({ to: "2000-01-01" }))).text())).toEqual([]);
		const first = await (await viewer.fetch(eventsPath({}))).text();
		const older = /href="([^"]+)" id="older"/.exec(first)![1]!.replace(/&amp;/g, "&");
		const second = await (await viewer.fetch(older)).text();
		expect(types(second).length).toBeGreaterThan(0);
		// Another tenant's events are not reachable through this page.
		expect((await viewer.fetch(`/console/t/${other.tenantId}/events`)).status).toBe(404);
	});

	it("attack: a user id and event data holding markup render as text", async () => {
		const list = await (await support.fetch(usersOf(t.tenantId, `?q=${encodeURIComponent("<script>")}`))).text();
		expect(list).not.toContain("<script>alert(1)");
		expect(list).toContain("&lt;script>alert(1)&lt;/script>&quot;onmouseover=alert(2)");
		const page = await (await support.fetch(userPath(t.tenantId, XSS_ID))).text();
		expect(page).not.toContain("<script>alert(1)");
		expect(page).not.toMatch(/<[^>]+onmouseover=/);
	});
});
