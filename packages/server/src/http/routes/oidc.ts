import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type Provider from "oidc-provider";
import { isId } from "../../core/id.js";
import type { OIDCProviders } from "../../oidc/providers.js";
import { sendError } from "../errors.js";

/**
 * oidc-provider's own endpoints under each tenant's issuer path `/t/:tenant/` (issue 15, ADR 0008): discovery, JWKS,
 * PAR, authorization (and its resume), token, logout. Each is handed to the tenant's provider in onRequest, before
 * Fastify reads the body (the provider parses its form bodies itself), with the request path made relative to the
 * issuer. The interaction pages (`/t/:tenant/interaction/:uid`) are not here: they are the prompt's (http/routes/prompt*).
 */
const PROVIDER_PATHS = [
	"/.well-known/openid-configuration",
	"/jwks",
	"/par",
	"/authorize",
	"/authorize/:uid",
	"/token",
	"/logout",
	"/logout/confirm",
	"/logout/success",
];

export function oidcRoutes(providers: OIDCProviders) {
	const callbacks = new WeakMap<Provider, ReturnType<Provider["callback"]>>();
	const dispatch = async (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply): Promise<unknown> => {
		const { tenant } = request.params;
		const provider = isId("ten", tenant) ? await providers.provider(tenant) : undefined;
		if (provider === undefined) return sendError(reply, "not_found");
		let callback = callbacks.get(provider);
		if (callback === undefined) {
			callback = provider.callback();
			callbacks.set(provider, callback);
		}
		const raw = request.raw as typeof request.raw & { originalUrl?: string };
		const prefix = `/t/${tenant}`;
		const url = raw.url ?? prefix;
		raw.originalUrl = url;
		raw.url = url.slice(prefix.length) || "/";
		// The provider builds every URL it publishes from these (provider.proxy): the issuer's, never the request's Host.
		const issuer = new URL(providers.issuerOf(tenant));
		raw.headers["x-forwarded-host"] = issuer.host;
		raw.headers["x-forwarded-proto"] = issuer.protocol.slice(0, -1);
		raw.headers["x-forwarded-for"] = request.ip;
		reply.hijack();
		await callback(raw, reply.raw);
		return reply;
	};
	return async (app: FastifyInstance): Promise<void> => {
		for (const path of PROVIDER_PATHS) {
			app.route<{ Params: { tenant: string } }>({
				method: ["GET", "POST"],
				url: `/t/:tenant${path}`,
				schema: { hide: true },
				onRequest: dispatch,
				// Never reached: onRequest answered.
				handler: async (_request, reply) => reply,
			});
		}
	};
}
