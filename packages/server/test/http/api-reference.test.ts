import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/contract/errors.js";
import { buildTestApp, type TestApp } from "../helpers.js";

/**
 * Issue 13, "The API reference a newcomer reads": /docs, served over real
 * HTTP on loopback, shows Twofold's page, an example per request-body
 * variant, a description for every response, named schemas under
 * components, and error codes that lead to docs/errors.md.
 */
type Json = Record<string, any>;

const NAMED = ["Error", "ValidationDetail", "Factor", "User", "Tenant", "Verification", "Webhook", "Delivery", "Event"];

function operations(spec: Json): { method: string; path: string; operation: Json }[] {
	return Object.entries<Json>(spec.paths).flatMap(([path, methods]) => Object.entries<Json>(methods).map(([method, operation]) => ({ method, path, operation })));
}

function refs(value: unknown): string[] {
	if (Array.isArray(value)) return value.flatMap(refs);
	if (typeof value !== "object" || value === null) return [];
	return Object.entries(value).flatMap(([key, inner]) => (key === "$ref" && typeof inner === "string" ? [inner] : refs(inner)));
}

describe("the API reference (/docs)", () => {
	let t: TestApp;
	let base: string;
	let spec: Json;
	beforeAll(async () => {
		t = await buildTestApp();
		await t.http.listen({ host: "127.0.0.1", port: 0 });
		base = `http://127.0.0.1:${(t.http.server.address() as AddressInfo).port}`;
		const response = await fetch(`${base}/docs/json`);
		expect(response.status).toBe(200);
		spec = (await response.json()) as Json;
	});
	afterAll(() => t.close());

	it("describes every response: no 'Default Response'", () => {
		const missing = operations(spec).flatMap(({ method, path, operation }) =>
			Object.entries<Json>(operation.responses ?? {})
				.filter(([, response]) => typeof response.description !== "string" || response.description === "" || response.description === "Default Response")
				.map(([status]) => `${method.toUpperCase()} ${path} ${status}`),
		);
		expect(missing).toEqual([]);
	});

	it("lists the named schemas under components, and every $ref resolves to one", () => {
		const schemas = spec.components?.schemas ?? {};
		for (const name of NAMED) expect(schemas[name], name).toBeTypeOf("object");
		expect(Object.keys(schemas).filter((name) => /^def-\d+$/.test(name))).toEqual([]);
		const unresolved = refs(spec.paths)
			.concat(refs(schemas))
			.filter((ref) => schemas[ref.replace("#/components/schemas/", "")] === undefined);
		expect(unresolved).toEqual([]);
		// Responses use them rather than copies.
		const verify = spec.paths["/v1/users/{user_id}/verify"].post;
		expect(verify.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Verification" });
		expect(verify.responses["422"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
	});

	it("gives every request body named examples, so the page never invents values from patterns", () => {
		const without = operations(spec)
			.filter(({ operation }) => operation.requestBody !== undefined)
			.filter(({ operation }) => Object.keys(operation.requestBody.content["application/json"].examples ?? {}).length === 0)
			.map(({ method, path }) => `${method.toUpperCase()} ${path}`);
		expect(without).toEqual([]);
	});

	it("shows verify with a TOTP code, a recovery code and a WebAuthn credential", () => {
		const examples = Object.values<Json>(spec.paths["/v1/users/{user_id}/verify"].post.requestBody.content["application/json"].examples).map((example) => example.value);
		expect(examples.some((value) => /^[0-9]{6}$/.test(value.code) && value.challenge_id === undefined)).toBe(true);
		expect(examples.some((value) => /^[0-9a-z]{4}(-[0-9a-z]{4}){3}$/.test(value.code))).toBe(true);
		expect(examples.some((value) => typeof value.challenge_id === "string" && value.credential?.type === "public-key" && typeof value.credential.response?.signature === "string")).toBe(true);
	});

	it("shows an example for each variant of enroll and challenges (the discriminator's values)", () => {
		for (const path of ["/v1/users/{user_id}/factors", "/v1/users/{user_id}/challenges"]) {
			const media = spec.paths[path].post.requestBody.content["application/json"];
			expect(media.schema.discriminator).toEqual({ propertyName: "type" });
			const variants = (media.schema.oneOf as Json[]).map((variant) => variant.properties.type.const ?? variant.properties.type.enum?.[0]);
			expect(variants.length, path).toBeGreaterThan(1);
			const shown = new Set(Object.values<Json>(media.examples).map((example) => example.value.type));
			for (const variant of variants) expect(shown.has(variant), `${path}: ${variant}`).toBe(true);
		}
	});

	it("shows no usable secret and no wrong assertion type: an import example is a placeholder Twofold refuses", async () => {
		for (const { method, path, operation } of operations(spec)) {
			if (operation.requestBody === undefined) continue;
			for (const [name, example] of Object.entries<Json>(operation.requestBody.content["application/json"].examples)) {
				const value = example.value as Record<string, unknown>;
				// A published seed would enroll a factor whose codes anyone can compute (RFC 6238 §3).
				if (typeof value.secret === "string") expect(value.secret, `${method} ${path} ${name}`).not.toMatch(/^[A-Z2-7]+=*$/i);
				if (typeof value.assertion === "string") {
					const header = JSON.parse(Buffer.from(value.assertion.split(".")[0]!, "base64url").toString("utf8")) as { typ?: string };
					expect(header.typ, `${method} ${path} ${name}`).toBe("twofold-assertion+jwt");
				}
			}
		}
		const enroll = spec.paths["/v1/users/{user_id}/factors"].post.requestBody.content["application/json"].examples;
		const imported = await t.call("POST", "/v1/users/docs-import-user/factors", enroll.totp_import.value);
		expect(imported.json.error.code).toBe("invalid_secret");
	});

	it("has examples the server accepts as well-formed: none is answered invalid_request", async () => {
		const paths: Record<string, string> = { user_id: "docs-example-user", factor_id: "fac_00000000000000000000000000", webhook_id: "wh_x" };
		for (const { method, path, operation } of operations(spec)) {
			if (operation.requestBody === undefined) continue;
			const url = path.replace(/\{(\w+)\}/g, (_, name: string) => paths[name] ?? name);
			for (const [name, example] of Object.entries<Json>(operation.requestBody.content["application/json"].examples)) {
				const response = await t.call(method.toUpperCase(), url, example.value);
				expect(response.json?.error?.code, `${method.toUpperCase()} ${path} example ${name}: ${response.body}`).not.toBe("invalid_request");
			}
		}
	});

	it("links error codes to the error catalog, served on Twofold's own origin from the catalog itself", async () => {
		const error = spec.components.schemas.Error;
		expect(error.description).toMatch(/\[[^\]]*docs\/errors\.md[^\]]*\]\(\/docs\/errors\)/);
		expect([...error.properties.error.properties.code.enum].sort()).toEqual(Object.keys(ERROR_CODES).sort());
		expect(spec.info.description).toMatch(/\]\(\/docs\/errors\)/);
		// The link leads to a page, not to an address outside this server.
		const page = await fetch(`${base}/docs/errors`);
		expect(page.status).toBe(200);
		expect(page.headers.get("content-type")).toMatch(/^text\/html/);
		expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
		const html = await page.text();
		for (const [code, { status }] of Object.entries(ERROR_CODES)) expect(html).toContain(`<tr id="${code}"><td><code>${code}</code></td><td>${status}</td>`);
		expect([...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!).filter((url) => !url.startsWith("/"))).toEqual([]);
	});

	it("is Twofold's page, with nothing loaded from another origin", async () => {
		expect(spec.info.title).toBe("Twofold");
		const page = await fetch(`${base}/docs/`);
		const html = await page.text();
		expect(html).toMatch(/<title>[^<]*Twofold[^<]*<\/title>/);
		const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
		expect(assets.length).toBeGreaterThan(0);
		for (const asset of assets) expect(new URL(asset, `${base}/docs/`).origin, asset).toBe(base);
		const initializer = await (await fetch(`${base}/docs/static/swagger-initializer.js`)).text();
		// The logo is Twofold's own, inline; swagger-ui's online validator stays off.
		const logo = Buffer.from(/data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)/.exec(initializer)?.[1] ?? "", "base64").toString("utf8");
		expect(logo).toContain("Twofold");
		expect(logo.toLowerCase()).not.toContain("fastify");
		expect(initializer).toMatch(/validatorUrl: null/);
		// No absolute URL in a string (a comment's link to stackoverflow.com loads nothing).
		expect(initializer).not.toMatch(/["'`]https?:\/\//);
	});
});
