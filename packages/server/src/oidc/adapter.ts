import { createHash } from "node:crypto";
import type { Adapter, AdapterPayload } from "oidc-provider";
import { openClientSecret } from "../services/client-secret.js";
import type { KeyDeps } from "../services/signing-keys.js";

/**
 * oidc-provider's storage over the Store (issue 15): one row per artefact in oidc_payloads, both dialects, so
 * interactions, pushed requests, codes and grants survive a restart and are seen by every node. One adapter class
 * per tenant provider: every row and every client lookup is scoped to that tenant, so a client of tenant A is not
 * found at tenant B's issuer.
 *
 * At rest: the row key is SHA-256 of the artefact's id and the payload keeps no copy of it (except a Session's,
 * which findByUid must return and which lets nothing happen here: every authorization needs a fresh proof), so an
 * authorization code read from the database is not a usable code. A client's secret is opened from its envelope
 * only when the provider loads the client.
 */
export interface AdapterHooks {
	/** Everything issued under a grant is being revoked (a code used twice, RFC 6749 §4.1.2). */
	grantRevoked(grantId: string): Promise<void>;
	/** A code's conditional consume found it consumed already (two redemptions racing): refuse as oidc-provider would. */
	alreadyConsumed(grantId: string | undefined): Promise<never>;
}

/** Models whose artefacts belong to a grant (revokeByGrantId). */
const GRANTABLE = ["AccessToken", "AuthorizationCode", "RefreshToken", "DeviceCode", "BackchannelAuthenticationRequest"];

/** Artefacts without an expiry from the provider (none in our configuration) still go within a day. */
const DEFAULT_TTL_SECONDS = 24 * 60 * 60;

export const hashId = (model: string, id: string): string => createHash("sha256").update(model).update("\0").update(id).digest("base64url");

export function tenantAdapter(deps: KeyDeps, tenantId: string, hooks: AdapterHooks): new (model: string) => Adapter {
	const now = (): number => deps.clock().getTime();
	const payloads = () => deps.store.oidcPayloads;

	return class StoreAdapter implements Adapter {
		readonly name: string;
		constructor(model: string) {
			this.name = model;
		}

		async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
			const { jti: _jti, consumed: _consumed, ...rest } = payload;
			const kept = this.name === "Session" ? payload : rest;
			await payloads().upsert({
				tenant_id: tenantId,
				model: this.name,
				id_hash: hashId(this.name, id),
				grant_id: typeof payload.grantId === "string" && GRANTABLE.includes(this.name) ? payload.grantId : null,
				uid_hash: typeof payload.uid === "string" ? hashId(this.name, payload.uid) : null,
				payload: JSON.stringify(kept),
				expires_at: now() + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_TTL_SECONDS) * 1000,
				consumed_at: typeof payload.consumed === "number" ? payload.consumed * 1000 : null,
			});
		}

		async find(id: string): Promise<AdapterPayload | undefined> {
			if (this.name === "Client") return findClient(deps, tenantId, id);
			const row = await payloads().find(tenantId, this.name, hashId(this.name, id), now());
			if (row === undefined) return undefined;
			const payload = JSON.parse(row.payload) as AdapterPayload;
			return { ...payload, jti: id, ...(row.consumed_at === null ? {} : { consumed: Math.floor(row.consumed_at / 1000) }) };
		}

		async findByUserCode(): Promise<AdapterPayload | undefined> {
			// The device flow is off; nothing is stored by user code.
			return undefined;
		}

		async findByUid(uid: string): Promise<AdapterPayload | undefined> {
			const row = await payloads().findByUid(tenantId, this.name, hashId(this.name, uid), now());
			if (row === undefined) return undefined;
			const payload = JSON.parse(row.payload) as AdapterPayload;
			return row.consumed_at === null ? payload : { ...payload, consumed: Math.floor(row.consumed_at / 1000) };
		}

		async consume(id: string): Promise<void> {
			const idHash = hashId(this.name, id);
			if (await payloads().consume(tenantId, this.name, idHash, now())) return;
			// oidc-provider checked `consumed` on the copy it read; another request consumed it since. Only one wins.
			const row = await payloads().find(tenantId, this.name, idHash, now());
			const grantId = row === undefined ? undefined : ((JSON.parse(row.payload) as AdapterPayload).grantId as string | undefined);
			await hooks.alreadyConsumed(grantId);
		}

		async destroy(id: string): Promise<void> {
			await payloads().destroy(tenantId, this.name, hashId(this.name, id));
		}

		async revokeByGrantId(grantId: string): Promise<void> {
			await hooks.grantRevoked(grantId);
			await payloads().revokeByGrantId(tenantId, [this.name], grantId);
		}
	};
}

/** The client as oidc-provider takes its metadata: only what Twofold registers, the secret opened from its envelope. */
async function findClient(deps: KeyDeps, tenantId: string, clientId: string): Promise<AdapterPayload | undefined> {
	const row = await deps.store.clients.find(tenantId, clientId);
	if (row === undefined) return undefined;
	return {
		client_id: row.id,
		client_name: row.name,
		redirect_uris: JSON.parse(row.redirect_uris) as string[],
		post_logout_redirect_uris: JSON.parse(row.post_logout_redirect_uris) as string[],
		token_endpoint_auth_method: row.token_endpoint_auth_method,
		id_token_signed_response_alg: row.id_token_signed_response_alg,
		grant_types: ["authorization_code"],
		response_types: ["code"],
		...(row.secret_envelope === null ? {} : { client_secret: openClientSecret(deps, row, row.secret_envelope) }),
		...(row.jwks === null ? {} : { jwks: JSON.parse(row.jwks) as { keys: unknown[] } }),
	} as AdapterPayload;
}
