import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/contract/errors.js";
import { buildTestApp, type TestApp } from "../helpers.js";

describe("authentication, error shapes and documents", () => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp();
	});
	afterAll(() => t.close());

	it("no key, a malformed key and an unknown key are 401 with a Bearer challenge", async () => {
		for (const key of [null, "nonsense", `${t.adminKey.slice(0, -1)}x`, "tfk_00000000000000000000000000_0000000000000000000000000000000000000000000000000000"]) {
			const res = await t.call("GET", "/v1/tenant", undefined, key);
			expect(res.status).toBe(401);
			expect(res.json.error.code).toBe("unauthorized");
			expect(res.headers["www-authenticate"]).toBe('Bearer realm="twofold"');
		}
		const basic = await t.http.inject({ method: "GET", url: "/v1/tenant", headers: { authorization: `Basic ${t.adminKey}` } });
		expect(basic.statusCode).toBe(401);
	});

	it("authentication comes before body validation: an unauthenticated caller learns nothing else", async () => {
		const res = await t.call("POST", "/v1/users/x/verify", { bogus: true }, null);
		expect(res.status).toBe(401);
	});

	it("a revoked key stops working at once (R-LC-3)", async () => {
		const key = await t.app.services.apiKeys.create(t.tenantId, "default");
		expect((await t.call("GET", "/v1/tenant", undefined, key.token)).status).toBe(200);
		expect(await t.app.services.apiKeys.revoke(key.id)).toBe(true);
		expect((await t.call("GET", "/v1/tenant", undefined, key.token)).status).toBe(401);
	});

	it("malformed input gets catalog errors that never echo the body", async () => {
		const canary = "424242";
		const bad = await t.http.inject({
			method: "POST",
			url: "/v1/users/x/verify",
			headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
			payload: `{"code":"${canary}"`,
		});
		expect(bad.statusCode).toBe(400);
		expect(JSON.parse(bad.body).error.code).toBe("invalid_request");
		expect(bad.body).not.toContain(canary);

		const media = await t.http.inject({
			method: "POST",
			url: "/v1/users/x/verify",
			headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "text/plain" },
			payload: canary,
		});
		expect(media.statusCode).toBe(415);
		expect(JSON.parse(media.body).error.code).toBe("unsupported_media_type");

		const large = await t.http.inject({
			method: "POST",
			url: "/v1/users/x/verify",
			headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
			payload: JSON.stringify({ code: "1".repeat(100_000) }),
		});
		expect(large.statusCode).toBe(413);
		expect(JSON.parse(large.body).error.code).toBe("payload_too_large");

		const missing = await t.call("POST", "/v1/users/x/verify", {});
		expect(missing.json.error.code).toBe("invalid_request");
		expect((await t.call("GET", "/v1/nope")).json.error.code).toBe("not_found");
		expect((await t.call("GET", "/nope", undefined, null)).json.error.code).toBe("not_found");
	});

	it("every error body has exactly {error: {code, message}} with a catalog code and status, and details for a 400 only", async () => {
		const samples = [
			await t.call("GET", "/v1/tenant", undefined, null),
			await t.call("GET", "/v1/users/nobody"),
			await t.call("POST", "/v1/users/nobody/verify", { code: "123456" }),
			await t.call("POST", "/v1/users/x/factors", { type: "nope" }),
		];
		for (const sample of samples) {
			expect(Object.keys(sample.json)).toEqual(["error"]);
			expect(Object.keys(sample.json.error).sort()).toEqual(sample.status === 400 ? ["code", "details", "message"] : ["code", "message"]);
			const code = sample.json.error.code as keyof typeof ERROR_CODES;
			expect(ERROR_CODES[code].status).toBe(sample.status);
		}
	});

	it("serves health, readiness, OpenAPI 3.1 with every route, and the docs page", async () => {
		expect((await t.call("GET", "/healthz", undefined, null)).json).toEqual({ status: "ok" });
		expect((await t.call("GET", "/readyz", undefined, null)).json).toEqual({ status: "ready" });
		const spec = (await t.call("GET", "/openapi.json", undefined, null)).json;
		expect(spec.openapi).toBe("3.1.0");
		expect(Object.keys(spec.paths).sort()).toEqual(
			[
				"/.well-known/jwks.json",
				"/healthz",
				"/metrics",
				"/readyz",
				"/v1/assertions/redeem",
				"/v1/browser.js",
				"/v1/clients",
				"/v1/clients/{client_id}",
				"/v1/clients/{client_id}/logo",
				"/v1/events",
				"/v1/imports",
				"/v1/imports/{import_id}",
				"/v1/tenant",
				"/v1/tenant/logo",
				"/v1/users/{user_id}",
				"/v1/users/{user_id}/challenges",
				"/v1/users/{user_id}/factors",
				"/v1/users/{user_id}/factors/{factor_id}",
				"/v1/users/{user_id}/factors/{factor_id}/confirm",
				"/v1/users/{user_id}/factors/{factor_id}/resync",
				"/v1/users/{user_id}/recovery-codes",
				"/v1/users/{user_id}/reset",
				"/v1/users/{user_id}/unlock",
				"/v1/users/{user_id}/verify",
				"/v1/webhooks",
				"/v1/webhooks/{webhook_id}",
				"/v1/webhooks/{webhook_id}/deliveries",
				"/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
				"/v1/webhooks/{webhook_id}/rotate-secret",
			].sort(),
		);
		// Every /v1 operation declares the API-key requirement, but the public browser helper.
		for (const [path, operations] of Object.entries<Record<string, any>>(spec.paths)) {
			if (!path.startsWith("/v1") || path === "/v1/browser.js") continue;
			for (const operation of Object.values(operations)) expect(operation.security).toEqual([{ apiKey: [] }]);
		}
		const docs = await t.http.inject({ method: "GET", url: "/docs/" });
		expect(docs.statusCode).toBe(200);
		expect(docs.body).toContain("swagger");
	});
});
