import { createPublicKey } from "node:crypto";
import type { Static } from "@sinclair/typebox";
import type { Client, CreateClientBody, CreateClientResponse, UpdateClientBody } from "../contract/schemas/clients.js";
import { fieldError, ServiceError } from "../contract/service-error.js";
import type { ValidationDetail } from "../contract/validation-detail.js";
import { generateId } from "../core/id.js";
import type { ClientTable } from "../store/tables.js";
import { sealClientSecret } from "./client-secret.js";
import type { ServiceDeps } from "./deps.js";
import { requireAdmin } from "./require-admin.js";
import type { TenantContext } from "./tenant-context.js";

/**
 * The registered clients of a tenant (issue 15): the applications that send their users to the hosted prompt.
 * Confidential only, since the login_hint is trusted because the client authenticated; exact redirect URIs; keys
 * for private_key_jwt inline only (a jwks_uri would be an outbound call). Admin keys only, within their tenant.
 */
type PublicClient = Static<typeof Client>;

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** The problem with one URI, or undefined. http only on loopback (RFC 8252 §7.3), never a fragment (RFC 6749 §3.1.2). */
function uriProblem(text: string): string | undefined {
	const url = URL.parse(text);
	if (url === null) return "must be an absolute URI";
	if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) return "must be https, or http on a loopback host";
	if (url.hash !== "" || text.includes("#")) return "must not have a fragment";
	if (url.username !== "" || url.password !== "") return "must not carry user info";
	return undefined;
}

function checkURIs(field: string, uris: readonly string[] | undefined, details: ValidationDetail[]): void {
	uris?.forEach((uri, index) => {
		const problem = uriProblem(uri);
		if (problem !== undefined) details.push({ in: "body", pointer: `/${field}/${index}`, message: problem });
	});
}

/** Public keys only, each one Node can import, each with a kid unique in the set. */
function checkJWKS(jwks: { keys: Record<string, unknown>[] }, details: ValidationDetail[]): void {
	const kids = new Set<string>();
	jwks.keys.forEach((key, index) => {
		const at = `/jwks/keys/${index}`;
		if ("d" in key || "p" in key || "k" in key) {
			details.push({ in: "body", pointer: at, message: "must be a public key (no private or symmetric key material)" });
			return;
		}
		try {
			createPublicKey({ key: key as never, format: "jwk" });
		} catch {
			details.push({ in: "body", pointer: at, message: "must be a public JWK (RSA, EC or OKP)" });
			return;
		}
		if (typeof key.kid === "string") {
			if (kids.has(key.kid)) details.push({ in: "body", pointer: `${at}/kid`, message: "must be unique in the set" });
			kids.add(key.kid);
		}
	});
}

const iso = (time: number): string => new Date(time).toISOString();

export function publicClient(row: ClientTable): PublicClient {
	const client: PublicClient = {
		client_id: row.id,
		name: row.name,
		redirect_uris: JSON.parse(row.redirect_uris) as string[],
		post_logout_redirect_uris: JSON.parse(row.post_logout_redirect_uris) as string[],
		token_endpoint_auth_method: row.token_endpoint_auth_method,
		id_token_signed_response_alg: row.id_token_signed_response_alg,
		created_at: iso(row.created_at),
		updated_at: iso(row.updated_at),
	};
	if (row.jwks !== null) client.jwks = JSON.parse(row.jwks) as { keys: Record<string, unknown>[] };
	return client;
}

const JWKS_URI_REFUSED = "is refused: Twofold makes no outbound call; register the public keys inline in jwks";

export async function createClient(deps: ServiceDeps, ctx: TenantContext, input: Static<typeof CreateClientBody>): Promise<Static<typeof CreateClientResponse>> {
	requireAdmin(ctx);
	if (input.jwks_uri !== undefined) throw fieldError("invalid_request", "/jwks_uri", JWKS_URI_REFUSED);
	const method = input.token_endpoint_auth_method ?? "client_secret_basic";
	const details: ValidationDetail[] = [];
	checkURIs("redirect_uris", input.redirect_uris, details);
	checkURIs("post_logout_redirect_uris", input.post_logout_redirect_uris, details);
	if (method === "private_key_jwt") {
		if (input.jwks === undefined) details.push({ in: "body", pointer: "/jwks", message: "is required for private_key_jwt" });
		else checkJWKS(input.jwks, details);
	} else if (input.jwks !== undefined) {
		details.push({ in: "body", pointer: "/jwks", message: "is only for private_key_jwt" });
	}
	if (details.length > 0) throw new ServiceError("invalid_request", { details });
	const now = deps.clock().getTime();
	const id = generateId("cli", deps.random);
	// 256 bits from the CSPRNG; shown once, sealed at rest (client-secret.ts).
	const secret = method === "private_key_jwt" ? undefined : Buffer.from(deps.random(32)).toString("base64url");
	const row: ClientTable = {
		tenant_id: ctx.tenantId,
		id,
		name: input.name,
		redirect_uris: JSON.stringify([...new Set(input.redirect_uris)]),
		post_logout_redirect_uris: JSON.stringify([...new Set(input.post_logout_redirect_uris ?? [])]),
		token_endpoint_auth_method: method,
		jwks: input.jwks === undefined ? null : JSON.stringify(input.jwks),
		id_token_signed_response_alg: input.id_token_signed_response_alg ?? "RS256",
		secret_envelope: secret === undefined ? null : sealClientSecret(deps, { tenant_id: ctx.tenantId, id }, secret),
		created_at: now,
		updated_at: now,
	};
	await deps.store.clients.insert(row);
	return secret === undefined ? { client: publicClient(row) } : { client: publicClient(row), client_secret: secret };
}

export async function listClients(deps: ServiceDeps, ctx: TenantContext): Promise<PublicClient[]> {
	requireAdmin(ctx);
	return (await deps.store.clients.list(ctx.tenantId)).map(publicClient);
}

export async function getClient(deps: ServiceDeps, ctx: TenantContext, id: string): Promise<PublicClient> {
	requireAdmin(ctx);
	const row = await deps.store.clients.find(ctx.tenantId, id);
	if (row === undefined) throw new ServiceError("client_not_found");
	return publicClient(row);
}

export async function updateClient(deps: ServiceDeps, ctx: TenantContext, id: string, patch: Static<typeof UpdateClientBody>): Promise<PublicClient> {
	requireAdmin(ctx);
	if (patch.jwks_uri !== undefined) throw fieldError("invalid_request", "/jwks_uri", JWKS_URI_REFUSED);
	return deps.store.transaction(async (tx) => {
		const row = await tx.clients.find(ctx.tenantId, id);
		if (row === undefined) throw new ServiceError("client_not_found");
		const details: ValidationDetail[] = [];
		checkURIs("redirect_uris", patch.redirect_uris, details);
		checkURIs("post_logout_redirect_uris", patch.post_logout_redirect_uris, details);
		if (patch.jwks !== undefined) {
			if (row.token_endpoint_auth_method !== "private_key_jwt") details.push({ in: "body", pointer: "/jwks", message: "is only for private_key_jwt" });
			else checkJWKS(patch.jwks, details);
		}
		if (details.length > 0) throw new ServiceError("invalid_request", { details });
		const changes: Partial<ClientTable> = { updated_at: deps.clock().getTime() };
		if (patch.name !== undefined) changes.name = patch.name;
		if (patch.redirect_uris !== undefined) changes.redirect_uris = JSON.stringify([...new Set(patch.redirect_uris)]);
		if (patch.post_logout_redirect_uris !== undefined) changes.post_logout_redirect_uris = JSON.stringify([...new Set(patch.post_logout_redirect_uris)]);
		if (patch.id_token_signed_response_alg !== undefined) changes.id_token_signed_response_alg = patch.id_token_signed_response_alg;
		if (patch.jwks !== undefined) changes.jwks = JSON.stringify(patch.jwks);
		await tx.clients.update(ctx.tenantId, id, changes);
		return publicClient({ ...row, ...changes });
	});
}

export async function deleteClient(deps: ServiceDeps, ctx: TenantContext, id: string): Promise<void> {
	requireAdmin(ctx);
	await deps.store.transaction(async (tx) => {
		if (!(await tx.clients.delete(ctx.tenantId, id))) throw new ServiceError("client_not_found");
		// Its logo goes with it: a later client can never be given the same id, but nothing should outlive its owner.
		await tx.logos.delete(ctx.tenantId, `client:${id}`);
	});
}
