import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashEnrollmentToken } from "../src/core/operator.js";
import { SYSTEM_TENANT_ID } from "../src/core/system-tenant.js";
import { OperatorError } from "../src/services/operators.js";
import { buildTestApp, DIALECTS, type TestApp } from "./helpers.js";

/**
 * Issue 16, the console's operators: users of the reserved system tenant, managed by the CLI's service functions
 * only. Their one-time enrollment link opens once, for 24 hours, and only its hash is kept.
 */
describe.each(DIALECTS)("console operators (%s)", (dialect) => {
	let t: TestApp;
	const operators = () => t.app.services.operators;
	const tokenOf = (link: string) => new URL(link).hash.replace(/^#token=/, "");

	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(async () => {
		await t?.close();
	});

	it("creates an operator in the system tenant with a one-time link whose token is in the fragment and only hashed at rest", async () => {
		const created = await operators().create({ name: "alice", role: "support", tenants: [t.tenantId] });
		expect(created.operator).toMatchObject({ name: "alice", role: "support", tenants: [t.tenantId], status: "active", enrollment: "pending" });
		const link = new URL(created.link);
		// The token travels in the fragment: browsers never send it, so no server or proxy log receives it.
		expect(link.pathname).toBe("/console/enroll");
		expect(link.search).toBe("");
		const token = tokenOf(created.link);
		expect(token).toMatch(/^[0-9a-hjkmnp-tv-z]{52}$/);
		expect(Date.parse(created.expires_at) - t.clock().getTime()).toBe(24 * 60 * 60 * 1000);

		// At rest: SHA-256 of the token, recomputed here, and the token in no column of the row.
		const row = await t.app.store.operators.findByName("alice");
		expect(row!.enrollment_hash).toBe(hashEnrollmentToken(token));
		expect(JSON.stringify(row)).not.toContain(token);
		// The system tenant exists now, is found by id, and is not one of the applications' tenants.
		expect(await t.app.store.tenants.find(SYSTEM_TENANT_ID)).toBeDefined();
		expect((await t.app.services.tenants.list()).map((tenant) => tenant.id)).toEqual([t.tenantId]);
		// Its audit trail names the operator; the event data holds no token.
		const [event] = await t.app.store.events.list(SYSTEM_TENANT_ID, { limit: 10 });
		expect(event).toMatchObject({ type: "operator.created", user_id: "alice" });
		expect(JSON.stringify(event)).not.toContain(token);
	});

	it("a link opens once: 20 presentations at once open it exactly once; a reissued link voids the earlier one", async () => {
		const created = await operators().create({ name: "bob", role: "viewer", tenants: "all" });
		const token = tokenOf(created.link);
		const results = await Promise.all(Array.from({ length: 20 }, () => operators().redeemEnrollment(token)));
		expect(results.filter((result) => result !== undefined)).toHaveLength(1);
		expect(results.find((result) => result !== undefined)).toMatchObject({ name: "bob", role: "viewer", tenants: "all", enrollment: "used" });
		expect(await operators().redeemEnrollment(token)).toBeUndefined();

		const first = tokenOf((await operators().reissue("bob")).link);
		const second = tokenOf((await operators().reissue("bob")).link);
		expect(first).not.toBe(second);
		expect(await operators().redeemEnrollment(first)).toBeUndefined();
		expect(await operators().redeemEnrollment(second)).toMatchObject({ name: "bob" });
	});

	it("a link opens nothing after 24 hours, once its operator is disabled, or when it is not a token at all", async () => {
		const late = await operators().create({ name: "carol", role: "admin", tenants: "all" });
		t.clock.advance(24 * 60 * 60 * 1000);
		expect(await operators().redeemEnrollment(tokenOf(late.link))).toBeUndefined();
		expect((await operators().list()).find((operator) => operator.name === "carol")).toMatchObject({ enrollment: "expired" });

		const gone = await operators().create({ name: "dave", role: "support", tenants: [t.tenantId] });
		expect(await operators().disable("dave")).toMatchObject({ status: "disabled", enrollment: "none" });
		expect(await operators().redeemEnrollment(tokenOf(gone.link))).toBeUndefined();
		await expect(operators().disable("dave")).rejects.toThrow("disabled already");
		await expect(operators().reissue("dave")).rejects.toThrow("is disabled");

		for (const bad of ["", "x", tokenOf(gone.link).toUpperCase(), `${tokenOf(gone.link)}0`, "' or 1=1 --"]) expect(await operators().redeemEnrollment(bad)).toBeUndefined();
	});

	it("refuses a bad name, a taken name, an unknown tenant and the system tenant as a scope, naming each", async () => {
		for (const name of ["", "Alice", "-x", "a b", "a/b", "x".repeat(65), "ümlaut"]) {
			await expect(operators().create({ name, role: "viewer", tenants: "all" })).rejects.toThrow(OperatorError);
		}
		await expect(operators().create({ name: "alice", role: "viewer", tenants: "all" })).rejects.toThrow("exists already");
		await expect(operators().create({ name: "erin", role: "viewer", tenants: ["ten_aaaaaaaaaaaaaaaaaaaaaaaaaa"] })).rejects.toThrow("no tenant ten_aaaaaaaaaaaaaaaaaaaaaaaaaa");
		await expect(operators().create({ name: "erin", role: "viewer", tenants: [SYSTEM_TENANT_ID] })).rejects.toThrow(`no tenant ${SYSTEM_TENANT_ID}`);
		await expect(operators().create({ name: "erin", role: "viewer", tenants: [] })).rejects.toThrow("--tenant");
		expect((await operators().list()).map((operator) => operator.name)).not.toContain("erin");
	});

	it("the system tenant gets no API key, so no request can act as it (R-LC-3's keys are per application tenant)", async () => {
		await expect(t.app.services.apiKeys.create(SYSTEM_TENANT_ID, "admin")).rejects.toMatchObject({ code: "system_tenant" });
		expect(await t.app.store.apiKeys.list(SYSTEM_TENANT_ID)).toEqual([]);
	});
});
