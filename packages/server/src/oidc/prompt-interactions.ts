import type { IncomingMessage, ServerResponse } from "node:http";
import type Provider from "oidc-provider";
import { ServiceError } from "../contract/service-error.js";
import { readAssertion } from "../services/assertions.js";
import type { ServiceDeps } from "../services/deps.js";
import { appendEvent } from "../services/events.js";
import { tenantContext, type TenantContext } from "../services/tenant-context.js";
import { ACR_NONE, acrAccepted, checkAcrValues, checkAuthorizationDetails, checkIntent, checkLoginHint, checkUiLocales } from "./authorization-request.js";
import type { PromptInteractions, PromptOutcome, PromptRequest } from "./prompt-interaction.js";
import type { OIDCProviders } from "./providers.js";

/**
 * The seam's implementation (prompt-interaction.ts): what the pages read of the pushed, client-authenticated
 * authorization request, and how they end it. The pages call finish after reply.hijack(): it writes the 303 back
 * into the provider itself.
 */
const INTERACTION_PATH = /^\/t\/([^/?#]+)\/interaction\/([^/?#]+)/;

interface Loaded {
	request: PromptRequest;
	ctx: TenantContext;
	provider: Provider;
}

export function promptInteractions(deps: ServiceDeps, providers: OIDCProviders): PromptInteractions & { loadWithProvider(req: IncomingMessage, res: ServerResponse): Promise<Loaded> } {
	const expired = (cause?: unknown): ServiceError => new ServiceError("prompt_expired", { cause });

	async function loadWithProvider(req: IncomingMessage, res: ServerResponse): Promise<Loaded> {
		const match = INTERACTION_PATH.exec(req.url ?? "");
		if (match === null) throw expired();
		const [, tenantId, uid] = match as unknown as [string, string, string];
		const provider = await providers.provider(tenantId);
		const tenant = await deps.store.tenants.find(tenantId);
		if (provider === undefined || tenant === undefined) throw expired();
		let details: Awaited<ReturnType<Provider["interactionDetails"]>>;
		try {
			details = await provider.interactionDetails(req, res);
		} catch (error) {
			throw expired(error);
		}
		// The interaction cookie names the interaction; the URL must name the same one.
		if (details.uid !== uid || typeof details.params.client_id !== "string") throw expired();
		const params = details.params as Record<string, unknown>;
		const client = await provider.Client.find(params.client_id as string);
		if (client === undefined) throw expired();
		// Checked by the provider when the request was pushed and again at /authorize; parsed here for the pages.
		const issuer = providers.issuerOf(tenantId);
		const request: PromptRequest = {
			uid,
			tenantId,
			userId: checkLoginHint(params.login_hint),
			client: { id: client.clientId, name: client.clientName ?? client.clientId, hasLogo: false },
			intent: checkIntent(params.intent),
			action: await checkAuthorizationDetails(params.authorization_details),
			acrValues: checkAcrValues(params.acr_values),
			uiLocales: checkUiLocales(params.ui_locales),
			redirectOrigin: new URL(params.redirect_uri as string).origin,
			issuer,
			issuerPath: new URL(issuer).pathname,
			expiresAt: (details.exp ?? 0) * 1000,
		};
		return { request, ctx: tenantContext(tenant, { id: `oidc:${client.clientId}`, scope: "default" }), provider };
	}

	return {
		loadWithProvider,
		async load(req, res) {
			const { request, ctx } = await loadWithProvider(req, res);
			// Only the pages show the client's logo: finish, which loads the interaction too, does not look it up.
			const hasLogo = await deps.store.logos.exists(request.tenantId, `client:${request.client.id}`);
			return { request: { ...request, client: { ...request.client, hasLogo } }, ctx };
		},
		async finish(req, res, outcome: PromptOutcome) {
			const { request, provider } = await loadWithProvider(req, res);
			const now = deps.clock().getTime();
			const event = { tenantId: request.tenantId, userId: request.userId };
			// The result must be at a level the application listed in acr_values: a weaker proof (a TOTP code when only
			// phishing-resistant was asked for, or no factor at all) ends as access_denied, never as a token with a level
			// the application did not accept. The pages offer only what can reach it; this is the guarantee.
			if (outcome.result !== "denied") {
				const reached = outcome.result === "verified" ? (await readAssertion(deps, outcome.assertion))?.acr : ACR_NONE;
				if (reached !== undefined && !acrAccepted(request.acrValues, reached)) {
					outcome = { result: "denied", reason: "policy", description: "The proof given does not reach a level the application accepts (acr_values)." };
				}
			}
			let result: Parameters<Provider["interactionResult"]>[2];
			let recorded: { type: "prompt.completed" | "prompt.cancelled"; data: Record<string, unknown> };
			if (outcome.result === "denied") {
				result = { error: "access_denied", error_description: outcome.description };
				recorded = { type: "prompt.cancelled", data: { client_id: request.client.id, intent: request.intent, reason: outcome.reason } };
			} else {
				let acr = ACR_NONE;
				let amr: string[] = [];
				let assertion: { token: string; jti: string; exp: number } | undefined;
				if (outcome.result === "verified") {
					// The assertion must be one of ours, for this tenant and user, bound to the request's action when there is one.
					const claims = await readAssertion(deps, outcome.assertion);
					if (claims === null || claims.sub !== request.userId || claims.tid !== request.tenantId || (claims.action_hash ?? null) !== (request.action?.hash ?? null)) {
						throw new ServiceError("invalid_assertion");
					}
					acr = claims.acr;
					amr = claims.amr;
					assertion = { token: outcome.assertion, jti: claims.jti, exp: claims.exp };
				}
				const grant = new provider.Grant({ accountId: request.userId, clientId: request.client.id });
				grant.addOIDCScope("openid");
				grant.addOIDCClaims(["tid", "action_hash", "acr", "amr", "auth_time"]);
				const grantId = await grant.save();
				await providers.results.save(request.tenantId, grantId, {
					userId: request.userId,
					clientId: request.client.id,
					...(assertion === undefined ? {} : { assertion: assertion.token, jti: assertion.jti, exp: assertion.exp }),
					...(request.action === null ? {} : { actionHash: request.action.hash }),
				});
				result = { login: { accountId: request.userId, acr, amr, remember: false, ts: Math.floor(now / 1000) }, consent: { grantId } };
				recorded = {
					type: "prompt.completed",
					data: { client_id: request.client.id, intent: request.intent, result: outcome.result, acr, ...(outcome.result === "verified" ? { method: outcome.method } : {}) },
				};
			}
			const returnTo = await provider.interactionResult(req, res, result, { mergeWithLastSubmission: false });
			await deps.store.transaction(async (tx) => appendEvent(tx, deps.random, now, { ...event, type: recorded.type, data: recorded.data }));
			res.statusCode = 303;
			res.setHeader("location", returnTo);
			res.setHeader("content-length", "0");
			res.setHeader("cache-control", "no-store");
			res.end();
		},
	};
}
