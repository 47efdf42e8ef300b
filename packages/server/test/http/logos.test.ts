import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, DIALECTS, type TestApp } from "../helpers.js";
import { GIF_1x1, JPEG_MIN, png1x1, pngChunk, WEBP_1x1 } from "../logo-fixtures.js";

/**
 * Prompt logos (issue 15): uploaded and stored by Twofold, raster only, checked by bytes and declared type,
 * at most 64 KB, served publicly with the stored type, nosniff and a sandbox CSP. Each attack is a test.
 */
describe.each(DIALECTS)("tenant and client logos (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	const put = (body: Buffer, contentType: string | undefined, key: string | null = t.adminKey) =>
		t.http.inject({
			method: "PUT",
			url: "/v1/tenant/logo",
			headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...(contentType === undefined ? {} : { "content-type": contentType }) },
			payload: body,
		});
	const hasLogo = async () => (await t.call("GET", "/v1/tenant")).json.settings.branding.has_logo as boolean;

	it("stores a PNG, sets has_logo, serves it with its type, nosniff, a sandbox CSP and a cache header; DELETE removes it", async () => {
		expect(await hasLogo()).toBe(false);
		expect((await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/logo` })).statusCode).toBe(404);
		const stored = await put(png1x1(), "image/png");
		expect(stored.statusCode, stored.body).toBe(204);
		expect(await hasLogo()).toBe(true);
		const served = await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/logo` });
		expect(served.statusCode).toBe(200);
		expect(served.headers["content-type"]).toBe("image/png");
		expect(served.headers["content-security-policy"]).toBe("sandbox; default-src 'none'");
		expect(served.headers["x-content-type-options"]).toBe("nosniff");
		expect(served.headers["cache-control"]).toBe("public, max-age=300");
		expect(Buffer.compare(served.rawPayload, png1x1())).toBe(0);
		// A conditional request with the ETag is answered without the body.
		const again = await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/logo`, headers: { "if-none-match": served.headers.etag as string } });
		expect(again.statusCode).toBe(304);
		expect(again.rawPayload.length).toBe(0);

		// Replaced by another format: the stored type follows.
		expect((await put(GIF_1x1, "image/gif")).statusCode).toBe(204);
		const gif = await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/logo` });
		expect(gif.headers["content-type"]).toBe("image/gif");
		expect(gif.headers.etag).not.toBe(served.headers.etag);

		const deleted = await t.http.inject({ method: "DELETE", url: "/v1/tenant/logo", headers: { authorization: `Bearer ${t.adminKey}` } });
		expect(deleted.statusCode).toBe(204);
		expect(await hasLogo()).toBe(false);
		expect((await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/logo` })).statusCode).toBe(404);
	});

	it("takes JPEG and WebP, with a Content-Type parameter or in upper case", async () => {
		expect((await put(JPEG_MIN, "image/jpeg")).statusCode).toBe(204);
		expect((await put(WEBP_1x1, "IMAGE/WEBP; foo=bar")).statusCode).toBe(204);
		expect((await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/logo` })).headers["content-type"]).toBe("image/webp");
	});

	it("attack: an SVG with a script is refused, as image/svg+xml and disguised as image/png", async () => {
		const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.domain)</script></svg>');
		const asSVG = await put(svg, "image/svg+xml");
		expect(asSVG.statusCode).toBe(415);
		expect(asSVG.json().error.code).toBe("unsupported_logo_type");
		expect(asSVG.json().error.message).toMatch(/SVG/);
		const disguised = await put(svg, "image/png");
		expect(disguised.statusCode).toBe(422);
		expect(disguised.json().error.code).toBe("invalid_logo");
	});

	it("attack: a PNG header with HTML after it is refused, and what was stored before stays", async () => {
		expect((await put(png1x1(), "image/png")).statusCode).toBe(204);
		const polyglot = Buffer.concat([png1x1().subarray(0, 33), Buffer.from("<html><body><script>alert(document.cookie)</script></body></html>")]);
		const refused = await put(polyglot, "image/png");
		expect(refused.json().error.code).toBe("invalid_logo");
		const trailing = await put(Buffer.concat([png1x1(), Buffer.from("<script>alert(1)</script>")]), "image/png");
		expect(trailing.json().error.code).toBe("invalid_logo");
		const served = await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/logo` });
		expect(Buffer.compare(served.rawPayload, png1x1())).toBe(0);
	});

	it("attack: a content type that disagrees with the bytes, or is not a raster type, is refused", async () => {
		expect((await put(png1x1(), "image/gif")).json().error.code).toBe("invalid_logo");
		expect((await put(GIF_1x1, "image/jpeg")).json().error.code).toBe("invalid_logo");
		for (const type of ["text/html", "application/octet-stream", "image/x-icon", "image/bmp", "application/json"]) {
			const res = await put(png1x1(), type);
			expect(res.json().error?.code, type).toBe("unsupported_logo_type");
		}
		// No Content-Type at all, and an empty body.
		expect((await put(png1x1(), undefined)).json().error.code).toBe("unsupported_logo_type");
		expect((await put(Buffer.alloc(0), "image/png")).json().error.code).toBe("invalid_logo");
	});

	it("attack: a logo over 64 KB is refused", async () => {
		// A well-formed PNG of 70 000 bytes: a private ancillary chunk pads it, so only the size is wrong.
		const big = Buffer.concat([png1x1().subarray(0, 33), paddingChunk(70_000 - 33 - 12 - 12 - 23), png1x1().subarray(33)]);
		const res = await put(big, "image/png");
		expect(res.statusCode).toBe(413);
		expect(res.json().error.code).toBe("payload_too_large");
		// The service refuses it too, for callers that are not this route (a client's logo).
		const ctx = (await t.app.services.apiKeys.authenticate(t.adminKey))!;
		await expect(t.app.services.logos.setLogo(ctx, "client:app-1", big, "image/png")).rejects.toMatchObject({ code: "payload_too_large" });
		// Just under the cap is stored.
		const fits = Buffer.concat([png1x1().subarray(0, 33), paddingChunk(65_536 - png1x1().length - 12), png1x1().subarray(33)]);
		expect(fits.length).toBe(65_536);
		expect((await put(fits, "image/png")).statusCode).toBe(204);
	});

	it("needs an admin key; an unauthenticated upload is 401", async () => {
		const key = await t.app.services.apiKeys.create(t.tenantId, "default");
		expect((await put(png1x1(), "image/png", key.token)).json().error.code).toBe("forbidden");
		expect((await put(png1x1(), "image/png", null)).statusCode).toBe(401);
		const del = await t.http.inject({ method: "DELETE", url: "/v1/tenant/logo", headers: { authorization: `Bearer ${key.token}` } });
		expect(del.json().error.code).toBe("forbidden");
	});

	it("attack: another tenant's logo, or another tenant's client's, is 404 under this tenant", async () => {
		const other = await t.app.services.tenants.create("other");
		const otherCtx = (await t.app.services.apiKeys.authenticate(other.apiKey))!;
		await t.app.services.logos.setLogo(otherCtx, "client:shared-name", png1x1(), "image/png");
		await t.app.services.logos.setLogo(otherCtx, "tenant", GIF_1x1, "image/gif");
		const ctx = (await t.app.services.apiKeys.authenticate(t.adminKey))!;
		await t.app.services.logos.deleteLogo(ctx, "tenant");
		expect((await t.http.inject({ method: "GET", url: `/t/${other.tenant.id}/clients/shared-name/logo` })).statusCode).toBe(200);
		expect((await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/clients/shared-name/logo` })).statusCode).toBe(404);
		expect((await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/logo` })).statusCode).toBe(404);
		expect((await t.http.inject({ method: "GET", url: `/t/${other.tenant.id}/logo` })).headers["content-type"]).toBe("image/gif");
		// has_logo is each tenant's own.
		expect(await hasLogo()).toBe(false);
		// An unknown tenant reads like one without a logo.
		expect((await t.http.inject({ method: "GET", url: "/t/ten_nosuchtenant/logo" })).statusCode).toBe(404);
	});

	it("client logos: stored per client id, served with the same headers, deleted by the service", async () => {
		const ctx = (await t.app.services.apiKeys.authenticate(t.adminKey))!;
		await t.app.services.logos.setLogo(ctx, "client:app-1", JPEG_MIN, "image/jpeg");
		expect(await t.app.services.logos.hasLogo(t.tenantId, "client:app-1")).toBe(true);
		const served = await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/clients/app-1/logo` });
		expect(served.headers).toMatchObject({ "content-type": "image/jpeg", "content-security-policy": "sandbox; default-src 'none'", "x-content-type-options": "nosniff" });
		// A client's logo does not touch the tenant's has_logo.
		expect(await hasLogo()).toBe(false);
		await expect(t.app.services.logos.setLogo(ctx, "client:app-2", Buffer.from("<svg/>"), "image/svg+xml")).rejects.toMatchObject({ code: "unsupported_logo_type" });
		expect(await t.app.services.logos.deleteLogo(ctx, "client:app-1")).toBe(true);
		expect(await t.app.services.logos.deleteLogo(ctx, "client:app-1")).toBe(false);
		expect((await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/clients/app-1/logo` })).statusCode).toBe(404);
		// An owner that is neither form is a programming error, not a stored row.
		await expect(t.app.services.logos.getLogo(t.tenantId, "client:../x")).rejects.toThrow(TypeError);
	});

	it("client logos by the admin API: PUT and DELETE /v1/clients/{id}/logo, only for this tenant's clients, and gone with the client", async () => {
		const created = await t.call("POST", "/v1/clients", { name: "Shop", redirect_uris: ["https://shop.example/cb"] });
		expect(created.status, created.body).toBe(201);
		const id = created.json.client.client_id as string;
		const putClient = (clientId: string, body: Buffer, type: string, key = t.adminKey) =>
			t.http.inject({ method: "PUT", url: `/v1/clients/${clientId}/logo`, headers: { authorization: `Bearer ${key}`, "content-type": type }, payload: body });
		expect((await putClient(id, png1x1(), "image/png")).statusCode).toBe(204);
		const served = await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/clients/${id}/logo` });
		expect(served.statusCode).toBe(200);
		expect(served.headers["content-security-policy"]).toBe("sandbox; default-src 'none'");
		// The same checks as the tenant's logo: an SVG is refused.
		expect((await putClient(id, Buffer.from("<svg/>"), "image/svg+xml")).json().error.code).toBe("unsupported_logo_type");
		// Attack: a logo for a client id this tenant does not have (another tenant's, or none) is client_not_found, and stores nothing.
		const other = await t.app.services.tenants.create("other-clients");
		const otherClient = await t.app.services.clients.create((await t.app.services.apiKeys.authenticate(other.apiKey))!, { name: "Theirs", redirect_uris: ["https://theirs.example/cb"] });
		const theirs = otherClient.client.client_id;
		const refused = await putClient(theirs, png1x1(), "image/png");
		expect(refused.statusCode).toBe(404);
		expect(refused.json().error.code).toBe("client_not_found");
		expect(await t.app.services.logos.hasLogo(t.tenantId, `client:${theirs}`)).toBe(false);
		expect(await t.app.services.logos.hasLogo(other.tenant.id, `client:${theirs}`)).toBe(false);
		// A non-admin key may not.
		const key = await t.app.services.apiKeys.create(t.tenantId, "default");
		expect((await putClient(id, png1x1(), "image/png", key.token)).json().error.code).toBe("forbidden");
		// Deleting the client deletes its logo.
		expect((await t.call("DELETE", `/v1/clients/${id}`)).status).toBe(204);
		expect((await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/clients/${id}/logo` })).statusCode).toBe(404);
		expect(await t.app.services.logos.hasLogo(t.tenantId, `client:${id}`)).toBe(false);
		// And DELETE of the logo itself.
		const again = await t.call("POST", "/v1/clients", { name: "Shop 2", redirect_uris: ["https://shop.example/cb"] });
		const id2 = again.json.client.client_id as string;
		expect((await putClient(id2, GIF_1x1, "image/gif")).statusCode).toBe(204);
		const removed = await t.http.inject({ method: "DELETE", url: `/v1/clients/${id2}/logo`, headers: { authorization: `Bearer ${t.adminKey}` } });
		expect(removed.statusCode).toBe(204);
		expect((await t.http.inject({ method: "GET", url: `/t/${t.tenantId}/clients/${id2}/logo` })).statusCode).toBe(404);
	});

	it("a PATCH of the tenant never sets or clears has_logo", async () => {
		expect((await put(png1x1(), "image/png")).statusCode).toBe(204);
		const patched = await t.call("PATCH", "/v1/tenant", { branding: { display_name: "Acme" } });
		expect(patched.json.settings.branding).toMatchObject({ display_name: "Acme", has_logo: true });
		const refused = await t.call("PATCH", "/v1/tenant", { branding: { has_logo: false } });
		expect(refused.status).toBe(400);
		expect(await hasLogo()).toBe(true);
	});
});

/** A private, ancillary PNG chunk ("prVt") of n data bytes with its CRC: valid PNG structure, any size. */
function paddingChunk(n: number): Buffer {
	return pngChunk("prVt", Buffer.alloc(n, 0x41));
}
