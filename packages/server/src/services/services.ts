import type { ServiceDeps } from "./deps.js";
import { authenticate, authenticateForAttempt, createAPIKey, listAPIKeys, revokeAPIKey, type APIKeyScope } from "./api-keys.js";
import { listEvents } from "./events.js";
import { confirmFactor, deleteFactor, enrollFactor, listFactors, renameFactor, resyncFactor } from "./factors.js";
import { deleteLogo, getLogo, hasLogo, setLogo } from "./logos.js";
import { FACTOR_KINDS } from "../factors/registry.js";
import type { EnrollTOTPInput } from "../factors/totp/factor.js";
import { regenerateRecoveryCodes } from "./recovery-codes.js";
import { createTenant, ensureFirstTenant, listTenants, tenantView, updateTenantSettings } from "./tenants.js";
import type { OperatorActor, TenantContext } from "./tenant-context.js";
import type { TenantSettingsPatch } from "../contract/tenant-settings.js";
import type { ChangeAuthorization } from "./change-authorization.js";
import type { EventQuery } from "../store/store.js";
import { deleteUser, getUser, requestRecovery, resetUser, unlockUser } from "./users.js";
import { verifyCode } from "./verifications.js";
import type { AttemptSnapshot } from "./proofs.js";
import { redeemAssertion, type AssertionRequest } from "./assertions.js";
import { publishedKeys, rotateSigningKey } from "./signing-keys.js";
import { createWebhook, deleteWebhook, listDeliveries, listWebhooks, retryDelivery, rotateWebhookSecret, updateWebhook } from "./webhooks.js";
import type { ProofInput } from "../factors/proof-kind.js";
import { createWebAuthnChallenge } from "./webauthn-challenges.js";
import { createEmailChallenge, sendEmailCodeToStoredAddress, storedEmailOffer } from "./email-codes.js";
import { createClient, deleteClient, getClient, listClients, updateClient } from "./clients.js";
import type { CreateClientBody, UpdateClientBody } from "../contract/schemas/clients.js";
import type { Static } from "@sinclair/typebox";
import { rotateIdTokenKeys } from "./id-token-keys.js";
import type { EnrollHOTPInput } from "../factors/hotp/factor.js";
import { consoleClient } from "./console-client.js";
import { foldEventRollups, tenantOverview } from "./event-rollups.js";
import { listUsers, operatorContext, tenantsInScope } from "./console-access.js";
import type { OperatorRole } from "../core/operator.js";
import type { PublicOperator } from "./operators.js";
import { endConsoleSession, readConsoleSession, recordConsoleStepUp, startConsoleSession } from "./console-sessions.js";
import { createOperator, disableOperator, listOperators, type NewOperator, redeemEnrollment, reissueEnrollment } from "./operators.js";

/**
 * The use cases, bound to their dependencies. HTTP routes, the CLI and tests
 * call these same functions; nothing here knows about Fastify.
 */
export function createServices(deps: ServiceDeps) {
	return {
		deps,
		tenants: {
			create: (name: string) => createTenant(deps, name),
			list: () => listTenants(deps),
			ensureFirst: () => ensureFirstTenant(deps),
			view: (ctx: TenantContext) => tenantView(deps, ctx),
			update: (ctx: TenantContext, patch: TenantSettingsPatch) => updateTenantSettings(deps, ctx, patch),
		},
		/** The console's operators (issue 16): the CLI manages them; the console's enrollment route redeems their links. */
		operators: {
			create: (input: NewOperator) => createOperator(deps, input),
			list: () => listOperators(deps),
			disable: (name: string) => disableOperator(deps, name),
			reissue: (name: string) => reissueEnrollment(deps, name),
			redeemEnrollment: (token: string) => redeemEnrollment(deps, token),
		},
		/** The console (issue 16): its OIDC client of the system tenant's prompt, and its sessions. */
		console: {
			client: () => consoleClient(deps),
			startSession: (operatorName: string) => startConsoleSession(deps, operatorName),
			readSession: (cookie: string | undefined) => readConsoleSession(deps, cookie),
			recordStepUp: (cookie: string) => recordConsoleStepUp(deps, cookie),
			endSession: (cookie: string | undefined) => endConsoleSession(deps, cookie),
			context: (operator: PublicOperator, tenantId: string, needed: OperatorRole) => operatorContext(deps, operator, tenantId, needed),
			tenants: (operator: PublicOperator) => tenantsInScope(deps, operator),
			users: (ctx: TenantContext, query: { prefix?: string; lockedOnly?: boolean; after?: string; limit: number }) => listUsers(deps, ctx, query),
			overview: (ctx: TenantContext) => tenantOverview(deps, ctx),
			foldRollups: () => foldEventRollups(deps),
		},
		apiKeys: {
			create: (tenantId: string, scope: APIKeyScope, actor?: OperatorActor) => createAPIKey(deps, tenantId, scope, actor),
			revoke: (keyId: string, within?: { tenantId: string; actor: OperatorActor }) => revokeAPIKey(deps, keyId, within),
			authenticate: (token: string, onUseNotRecorded?: (error: unknown) => void) => authenticate(deps, token, onUseNotRecorded),
			authenticateForAttempt: (token: string, userId: string, onUseNotRecorded?: (error: unknown) => void) =>
				authenticateForAttempt(deps, token, userId, onUseNotRecorded),
			list: (tenantId: string) => listAPIKeys(deps, tenantId),
		},
		factors: {
			enrollTOTP: (ctx: TenantContext, userId: string, input: ProofInput & EnrollTOTPInput) => enrollFactor(deps, ctx, userId, FACTOR_KINDS.totp, input),
			enrollHOTP: (ctx: TenantContext, userId: string, input: ProofInput & EnrollHOTPInput) => enrollFactor(deps, ctx, userId, FACTOR_KINDS.hotp, input),
			resync: (ctx: TenantContext, userId: string, factorId: string, input: { codes?: unknown }) => resyncFactor(deps, ctx, userId, factorId, input),
			enrollWebAuthn: (ctx: TenantContext, userId: string, input: ProofInput & { label?: string }) => enrollFactor(deps, ctx, userId, FACTOR_KINDS.webauthn, input),
			confirm: (ctx: TenantContext, userId: string, factorId: string, input: { code?: unknown; credential?: unknown }) =>
				confirmFactor(deps, ctx, userId, factorId, input),
			list: (ctx: TenantContext, userId: string) => listFactors(deps, ctx, userId),
			rename: (ctx: TenantContext, userId: string, factorId: string, label: string) => renameFactor(deps, ctx, userId, factorId, label),
			delete: (ctx: TenantContext, userId: string, factorId: string, authorization: ChangeAuthorization) =>
				deleteFactor(deps, ctx, userId, factorId, authorization),
		},
		verifications: {
			verify: (ctx: TenantContext, userId: string, input: ProofInput & AssertionRequest & { factorId?: string }, snapshot?: AttemptSnapshot) =>
				verifyCode(deps, ctx, userId, input, snapshot),
		},
		clients: {
			create: (ctx: TenantContext, input: Static<typeof CreateClientBody>) => createClient(deps, ctx, input),
			list: (ctx: TenantContext) => listClients(deps, ctx),
			get: (ctx: TenantContext, id: string) => getClient(deps, ctx, id),
			update: (ctx: TenantContext, id: string, patch: Static<typeof UpdateClientBody>) => updateClient(deps, ctx, id, patch),
			delete: (ctx: TenantContext, id: string) => deleteClient(deps, ctx, id),
		},
		assertions: {
			jwks: () => publishedKeys(deps),
			/** Rotates the assertion key and, with it, the prompt's id_token keys (issue 15): one command, one schedule. */
			rotateSigningKey: async (options: { immediate?: boolean } = {}) => {
				const rotated = await rotateSigningKey(deps, options);
				const idTokens = await rotateIdTokenKeys(deps, options);
				deps.signingKeys.forgetActive();
				return { ...rotated, id_token_keys: idTokens };
			},
			redeem: (ctx: TenantContext, token: string) => redeemAssertion(deps, ctx, token),
		},
		webhooks: {
			create: (ctx: TenantContext, input: { url: string; events: string[] }) => createWebhook(deps, ctx, input),
			list: (ctx: TenantContext) => listWebhooks(deps, ctx),
			update: (ctx: TenantContext, id: string, patch: { url?: string; events?: string[]; enabled?: boolean }) => updateWebhook(deps, ctx, id, patch),
			delete: (ctx: TenantContext, id: string) => deleteWebhook(deps, ctx, id),
			rotateSecret: (ctx: TenantContext, id: string) => rotateWebhookSecret(deps, ctx, id),
			deliveries: (ctx: TenantContext, id: string, limit: number) => listDeliveries(deps, ctx, id, limit),
			retry: (ctx: TenantContext, id: string, deliveryId: string) => retryDelivery(deps, ctx, id, deliveryId),
		},
		challenges: {
			createWebAuthn: (ctx: TenantContext, userId: string) => createWebAuthnChallenge(deps, ctx, userId),
			createEmail: (ctx: TenantContext, userId: string, to: string) => createEmailChallenge(deps, ctx, userId, to),
			/** The hosted prompt's email codes (issue 15): only to an address the tenant chose to store. */
			storedEmailOffer: (ctx: TenantContext, userId: string) => storedEmailOffer(deps, ctx, userId),
			sendEmailToStored: (ctx: TenantContext, userId: string) => sendEmailCodeToStoredAddress(deps, ctx, userId),
		},
		recoveryCodes: {
			regenerate: (ctx: TenantContext, userId: string, authorization: ChangeAuthorization) =>
				regenerateRecoveryCodes(deps, ctx, userId, authorization),
		},
		users: {
			get: (ctx: TenantContext, userId: string) => getUser(deps, ctx, userId),
			unlock: (ctx: TenantContext, userId: string) => unlockUser(deps, ctx, userId),
			delete: (ctx: TenantContext, userId: string) => deleteUser(deps, ctx, userId),
			reset: (ctx: TenantContext, userId: string, input: { reason: string; notify_email?: string }) => resetUser(deps, ctx, userId, input),
			requestRecovery: (ctx: TenantContext, userId: string) => requestRecovery(deps, ctx, userId),
		},
		/** Prompt logos (issue 15); owner "tenant" or "client:<client id>". */
		logos: {
			setLogo: (ctx: TenantContext, owner: string, bytes: Uint8Array, contentType: string | undefined) => setLogo(deps, ctx, owner, bytes, contentType),
			deleteLogo: (ctx: TenantContext, owner: string) => deleteLogo(deps, ctx, owner),
			getLogo: (tenantId: string, owner: string) => getLogo(deps, tenantId, owner),
			hasLogo: (tenantId: string, owner: string) => hasLogo(deps, tenantId, owner),
		},
		events: {
			list: (ctx: TenantContext, query: EventQuery) => listEvents(deps.store, ctx.tenantId, query),
		},
	};
}

export type Services = ReturnType<typeof createServices>;
