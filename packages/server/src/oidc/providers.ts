import { createHmac } from "node:crypto";
import type { Configuration, default as Provider, KoaContextWithOIDC } from "oidc-provider";
import type { ServiceDeps } from "../services/deps.js";
import { type IdTokenKeySet, idTokenKeys } from "../services/id-token-keys.js";
import { tenantAdapter } from "./adapter.js";
import {
	ACR_VALUES,
	ACTION_TYPE,
	checkAcrValues,
	checkAuthorizationDetails,
	checkIntent,
	checkLoginHint,
	checkUiLocales,
	RequestProblem,
} from "./authorization-request.js";
import { logoutSource, postLogoutSuccessSource, renderError } from "./provider-pages.js";
import { type PromptResult, promptResults } from "./prompt-results.js";

/**
 * One oidc-provider Provider per tenant issuer `${TWOFOLD_PUBLIC_URL}/t/${tenantId}` (issue 15, ADR 0008): built on
 * first use, cached, and rebuilt when the id_token keys (or the issuer) change. Everything the prompt does not need
 * is off; what it needs is required: PAR (RFC 9126), PKCE S256 (RFC 7636), response_type code, scope openid, a
 * fresh proof on every authorization (no provider sign-in session), login_hint as a user id, intent,
 * authorization_details of type twofold_action, codes single-use for at most 60 s.
 */
export const CODE_TTL_SECONDS = 60;

type OIDCModule = typeof import("oidc-provider");
/**
 * Loaded on the first request to a provider, not with the app: the CLI never loads it, and oidc-provider 9 warns on
 * stderr at import under Node 20 (it supports Node 22 LTS and later; ADR 0008).
 */
let loading: Promise<OIDCModule> | undefined;
const oidcModule = (): Promise<OIDCModule> => (loading ??= import("oidc-provider"));
const INTERACTION_TTL_SECONDS = 10 * 60;

export interface OIDCProviders {
	/** The tenant's provider; undefined when there is no such tenant. */
	provider(tenantId: string): Promise<Provider | undefined>;
	/** `${issuer}/t/${tenantId}`. */
	issuerOf(tenantId: string): string;
	/** The per-grant outcome of a prompt (what the id_token and the token response carry beyond the provider's own). */
	results: ReturnType<typeof promptResults>;
}

export function oidcProviders(deps: ServiceDeps): OIDCProviders {
	const keys = idTokenKeys(deps);
	const results = promptResults(deps);
	const built = new Map<string, { version: string; provider: Provider }>();
	const issuerOf = (tenantId: string): string => `${deps.issuer().replace(/\/+$/, "")}/t/${tenantId}`;
	return {
		issuerOf,
		results,
		async provider(tenantId) {
			const issuer = issuerOf(tenantId);
			const keySet = await keys.current();
			const version = `${issuer}\n${keySet.version}`;
			const cached = built.get(tenantId);
			if (cached?.version === version) return cached.provider;
			if ((await deps.store.tenants.find(tenantId)) === undefined) return undefined;
			const provider = buildProvider(await oidcModule(), deps, tenantId, issuer, keySet, results);
			built.set(tenantId, { version, provider });
			return provider;
		},
	};
}

/** Cookie signing keys for one tenant's provider, derived from every master key (active first), so all nodes agree. */
function cookieKeys(deps: ServiceDeps, tenantId: string): string[] {
	return deps.keyring.codeMacKeys.map((key) => createHmac("sha256", key).update(`twofold oidc cookies v1\0${tenantId}`).digest("base64url"));
}

export function buildProvider(
	{ default: Provider, errors, interactionPolicy }: OIDCModule,
	deps: ServiceDeps, tenantId: string, issuer: string, keySet: IdTokenKeySet, results: ReturnType<typeof promptResults>): Provider {
	const issuerPath = new URL(issuer).pathname;
	const invalid = (check: () => unknown): unknown => {
		try {
			return check();
		} catch (error) {
			if (error instanceof RequestProblem) throw new errors.InvalidRequest(error.message);
			throw error;
		}
	};
	const policy = interactionPolicy.base();
	// No provider sign-in session: a session the provider kept would let an authorization through without a proof.
	// Every authorization prompts for login until this very request carries the interaction's result.
	policy.get("login")!.checks.add(
		new interactionPolicy.Check("fresh_proof", "every authorization verifies a second factor afresh", (ctx) =>
			ctx.oidc.result?.login === undefined ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT,
		),
	);
	const readResult = (grantId: string | undefined): Promise<PromptResult | undefined> => (grantId === undefined ? Promise.resolve(undefined) : results.find(tenantId, grantId));
	const hooks = {
		grantRevoked: (grantId: string) => results.revoke(tenantId, grantId),
		async alreadyConsumed(grantId: string | undefined): Promise<never> {
			if (grantId !== undefined) await results.revoke(tenantId, grantId);
			throw new errors.InvalidGrant("authorization code already consumed");
		},
	};
	const configuration: Configuration = {
		adapter: tenantAdapter(deps, tenantId, hooks),
		clients: [],
		jwks: { keys: keySet.keys as never },
		cookies: { keys: cookieKeys(deps, tenantId), long: { httpOnly: true, sameSite: "lax" }, short: { httpOnly: true, sameSite: "lax" } },
		routes: {
			authorization: "/authorize",
			pushed_authorization_request: "/par",
			token: "/token",
			jwks: "/jwks",
			end_session: "/logout",
		},
		responseTypes: ["code"],
		scopes: ["openid"],
		// acr, amr and auth_time belong to the openid scope: every id_token carries them, not only when asked for.
		claims: { openid: ["sub", "tid", "action_hash", "acr", "amr", "auth_time"], iss: null, sid: null } as never,
		acrValues: [...ACR_VALUES],
		clientAuthMethods: ["client_secret_basic", "client_secret_post", "private_key_jwt"],
		enabledJWA: {
			idTokenSigningAlgValues: ["RS256", "EdDSA"],
			clientAuthSigningAlgValues: ["RS256", "PS256", "ES256", "EdDSA"],
		},
		allowOmittingSingleRegisteredRedirectUri: false,
		conformIdTokenClaims: false,
		pkce: { required: () => true },
		issueRefreshToken: async () => false,
		// There is no sign-in session to outlive (below, the provider's session goes once the code is issued): a code
		// must not be bound to it, or its exchange would look for a session that is gone.
		expiresWithSession: async () => false,
		clientBasedCORS: () => false,
		// The grant comes from this interaction's result only, never from a session (no sign-in session).
		loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
			const grantId = ctx.oidc.result?.consent?.grantId;
			return grantId === undefined ? undefined : ctx.oidc.provider.Grant.find(grantId);
		},
		ttl: {
			AuthorizationCode: CODE_TTL_SECONDS,
			AccessToken: 60,
			IdToken: 5 * 60,
			Interaction: INTERACTION_TTL_SECONDS,
			Session: INTERACTION_TTL_SECONDS,
			Grant: INTERACTION_TTL_SECONDS,
		},
		extraParams: {
			// Run by the provider at PAR and at /authorize, for every request whether or not it names the parameter.
			intent: async (ctx: KoaContextWithOIDC, value: unknown) => {
				const params = (ctx.oidc.params ?? {}) as Record<string, unknown>;
				invalid(() => checkIntent(value));
				invalid(() => checkLoginHint(params.login_hint));
				invalid(() => checkAcrValues(params.acr_values));
				invalid(() => checkUiLocales(params.ui_locales));
				if (params.scope !== "openid") throw new errors.InvalidScope("scope must be openid", String(params.scope ?? ""));
				if (params.response_mode !== undefined && params.response_mode !== "query") throw new errors.InvalidRequest("response_mode must be query");
				// An action is approved by a sign-in's proof; enroll and manage end with other proofs (a confirmation, a
				// re-authentication), which bind no action, so the pair could never finish.
				if (params.authorization_details !== undefined && (value ?? "verify") !== "verify") throw new errors.InvalidRequest("authorization_details (an action to approve) needs intent verify");
			},
			authorization_details: async (_ctx: KoaContextWithOIDC, value: unknown) => {
				try {
					await checkAuthorizationDetails(value);
				} catch (error) {
					if (error instanceof RequestProblem) throw new errors.InvalidRequest(error.message);
					throw error;
				}
			},
		} as never,
		discovery: {
			ui_locales_supported: ["en", "de"],
			authorization_details_types_supported: [ACTION_TYPE],
			claims_parameter_supported: false,
		} as never,
		features: {
			devInteractions: { enabled: false },
			dPoP: { enabled: false },
			resourceIndicators: { enabled: false },
			userinfo: { enabled: false },
			introspection: { enabled: false },
			revocation: { enabled: false },
			registration: { enabled: false },
			clientCredentials: { enabled: false },
			deviceFlow: { enabled: false },
			backchannelLogout: { enabled: false },
			claimsParameter: { enabled: false },
			requestObjects: { enabled: false },
			jwtResponseModes: { enabled: false },
			rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
			pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true, allowUnregisteredRedirectUris: false },
		},
		interactions: {
			policy,
			url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `${issuerPath}/interaction/${interaction.uid}`,
		},
		renderError,
		findAccount: async (_ctx: KoaContextWithOIDC, sub: string, token?: { grantId?: string }) => ({
			accountId: sub,
			async claims() {
				const result = await readResult(token?.grantId);
				return { sub, tid: tenantId, ...(result?.actionHash === undefined ? {} : { action_hash: result.actionHash }) };
			},
		}),
	};
	const provider = new Provider(issuer, configuration);
	// URLs come from the issuer, never from the request's Host (oidc/mount: X-Forwarded-Host and -Proto are set from it).
	provider.proxy = true;
	// The token response carries, beside the id_token, the step-up assertion of the proof (twofold_assertion), so
	// whatever checks assertions today keeps working; never for a user let through without a factor.
	provider.use(async (ctx, next) => {
		await next();
		const oidc = (ctx as KoaContextWithOIDC).oidc as KoaContextWithOIDC["oidc"] | undefined;
		if (oidc?.route !== "token" || ctx.status !== 200) return;
		const body = ctx.body as Record<string, unknown> | undefined;
		if (body === undefined || typeof body.id_token !== "string") return;
		const result = await readResult(oidc.entities.AuthorizationCode?.grantId);
		if (result?.assertion !== undefined) body.twofold_assertion = result.assertion;
	});
	// No provider sign-in session: the session oidc-provider saves when an authorization's login completes is dropped
	// as soon as that request is answered. Kept, it would put the next authorization in this browser for another user
	// through the provider's logout detour (a form that submits itself with an inline script, or waits for a click
	// without JavaScript) before the code reaches the application.
	provider.use(async (ctx, next) => {
		await next();
		const oidc = (ctx as KoaContextWithOIDC).oidc as KoaContextWithOIDC["oidc"] | undefined;
		if (oidc?.route !== "resume") return;
		const session = oidc.session as (KoaContextWithOIDC["oidc"]["session"] & { destroyed?: boolean }) | undefined;
		if (session?.accountId !== undefined && session.destroyed !== true) await session.destroy();
	});
	return provider;
}
