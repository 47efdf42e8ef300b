import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ClientParams } from "../../contract/schemas/clients.js";
import { errorResponses, NoContent } from "../../contract/schemas/common.js";
import { MAX_LOGO_BYTES } from "../../services/logos.js";
import type { Services } from "../../services/services.js";
import { tenantOf } from "../auth.js";
import { sendError } from "../errors.js";

const security = [{ apiKey: [] }];

/**
 * PUT and DELETE /v1/tenant/logo (issue 15). The body is the image itself, of any declared type: the service, not
 * the body parser, refuses what is not a raster image, so an SVG gets unsupported_logo_type and not a generic 415.
 * Client logos use the same service (services.logos.setLogo with owner "client:<id>") from the clients' routes.
 */
export function logoRoutes(services: Services): FastifyPluginAsyncTypebox {
	return async (app) => {
		// Scoped to this plugin: every other /v1 route keeps JSON only.
		app.removeAllContentTypeParsers();
		app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: MAX_LOGO_BYTES }, (_request, body, done) => done(null, body));

		app.put(
			"/tenant/logo",
			{
				schema: {
					tags: ["tenant"],
					summary:
						"Admin: upload the tenant's logo for the hosted prompt. The body is the image (PNG, JPEG, WebP or GIF, at most 64 KB) with its Content-Type; SVG is refused. Served at /t/{tenant}/logo.",
					security,
					response: { 204: NoContent("Stored; settings.branding.has_logo is true."), ...errorResponses },
				},
			},
			async (request, reply) => {
				const body = request.body;
				const bytes = body instanceof Uint8Array ? body : new Uint8Array(0);
				await services.logos.setLogo(tenantOf(request), "tenant", bytes, request.headers["content-type"]);
				return reply.code(204).send();
			},
		);

		app.put(
			"/clients/:client_id/logo",
			{
				schema: {
					tags: ["clients"],
					summary:
						"Admin: upload a client's logo, shown on the hosted prompt beside the application's name. The body is the image (PNG, JPEG, WebP or GIF, at most 64 KB) with its Content-Type; SVG is refused. Served at /t/{tenant}/clients/{client_id}/logo.",
					security,
					params: ClientParams,
					response: { 204: NoContent("Stored."), ...errorResponses },
				},
			},
			async (request, reply) => {
				const ctx = tenantOf(request);
				// Only a client of this tenant has a logo (client_not_found otherwise, as for its other routes).
				await services.clients.get(ctx, request.params.client_id);
				const body = request.body;
				await services.logos.setLogo(ctx, `client:${request.params.client_id}`, body instanceof Uint8Array ? body : new Uint8Array(0), request.headers["content-type"]);
				return reply.code(204).send();
			},
		);

		app.delete(
			"/clients/:client_id/logo",
			{
				schema: {
					tags: ["clients"],
					summary: "Admin: remove a client's logo (whether or not there was one).",
					security,
					params: ClientParams,
					response: { 204: NoContent("Removed."), ...errorResponses },
				},
			},
			async (request, reply) => {
				const ctx = tenantOf(request);
				await services.clients.get(ctx, request.params.client_id);
				await services.logos.deleteLogo(ctx, `client:${request.params.client_id}`);
				return reply.code(204).send();
			},
		);

		app.delete(
			"/tenant/logo",
			{
				schema: {
					tags: ["tenant"],
					summary: "Admin: remove the tenant's logo (whether or not there was one).",
					security,
					response: { 204: NoContent("Removed; settings.branding.has_logo is false."), ...errorResponses },
				},
			},
			async (request, reply) => {
				await services.logos.deleteLogo(tenantOf(request), "tenant");
				return reply.code(204).send();
			},
		);
	};
}

const TenantParam = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });
const ClientParam = Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._~-]+$" });

/**
 * GET /t/{tenant}/logo and /t/{tenant}/clients/{client_id}/logo: public, so the prompt's pages (and only images
 * Twofold stored) can show them. Answered with the stored type, never sniffed (nosniff), and with a sandbox CSP so
 * that even a file that is more than an image, opened directly, runs nothing and reaches nothing. 404 when there is
 * none, for an unknown tenant, and for another tenant's client (the key is tenant and owner).
 */
export function publicLogoRoutes(services: Services): FastifyPluginAsyncTypebox {
	return async (app) => {
		const serve = async (tenantId: string, owner: string, request: FastifyRequest, reply: FastifyReply) => {
			const logo = await services.logos.getLogo(tenantId, owner);
			if (logo === undefined) return sendError(reply, "not_found");
			const etag = `"${logo.sha256}"`;
			reply
				.header("content-security-policy", "sandbox; default-src 'none'")
				.header("x-content-type-options", "nosniff")
				// Public and short: a new upload shows within minutes, and the ETag makes the check cheap.
				.header("cache-control", "public, max-age=300")
				.header("etag", etag);
			if (request.headers["if-none-match"] === etag) return reply.code(304).send();
			return reply.type(logo.contentType).send(Buffer.from(logo.bytes.buffer, logo.bytes.byteOffset, logo.bytes.byteLength));
		};
		app.get(
			"/t/:tenant/logo",
			{ schema: { hide: true, params: Type.Object({ tenant: TenantParam }) } },
			async (request, reply) => serve(request.params.tenant, "tenant", request, reply),
		);
		app.get(
			"/t/:tenant/clients/:client_id/logo",
			{ schema: { hide: true, params: Type.Object({ tenant: TenantParam, client_id: ClientParam }) } },
			async (request, reply) => serve(request.params.tenant, `client:${request.params.client_id}`, request, reply),
		);
	};
}
