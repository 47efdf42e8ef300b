import type { Static } from "@sinclair/typebox";
import { canonicalHash, canonicalJSON } from "@twofold/sdk/action-hash";
import type { RedeemResponse } from "../contract/schemas/assertions.js";
import { type JWTHeaderParameters, jwtVerify } from "jose";
import { signCompactJWS } from "../core/compact-jws.js";
import { ASSERTION_TYP, type AssertionClaims, assertionClaims, type VerifiedProof } from "../core/assertion-claims.js";
import { malformedClaims, SIGNING_ALGORITHM } from "../core/assertion-contract.js";
import type { ServiceDeps } from "./deps.js";
import { fieldError, ServiceError } from "../contract/service-error.js";
import type { TenantContext } from "./tenant-context.js";

/** What a verify request may add to its assertion: the operation it approves, and whether a first factor passed too. */
export interface AssertionRequest {
	action?: unknown;
	first_factor?: boolean;
	/** A named audience instead of the tenant id (the schema keeps tenant ids out). */
	audience?: string;
}

/** An action is approved as a whole; this bounds what Twofold hashes per request. */
const MAX_ACTION_BYTES = 4096;

/** Tolerated clock difference between nodes for iat (D-7 bounds real skew well below this). */
const CLOCK_SKEW_SECONDS = 60;

/** The longest assertion read: the redeem body's bound, kept for proofs too, so no token costs more to parse. */
const MAX_ASSERTION_LENGTH = 8192;

/** Hashed before any attempt is made, so a malformed action is a 400 that costs the user nothing. */
export async function actionHashOf(action: unknown): Promise<string | undefined> {
	if (action === undefined) return undefined;
	let canonical: string;
	try {
		if (typeof action !== "object" || action === null || Array.isArray(action)) throw new TypeError("not an object");
		canonical = canonicalJSON(action);
	} catch {
		throw fieldError("invalid_request", "/action", "must be a JSON object of JSON values, numbers finite");
	}
	if (Buffer.byteLength(canonical) > MAX_ACTION_BYTES) throw fieldError("invalid_request", "/action", `must be at most ${MAX_ACTION_BYTES} bytes as canonical JSON`);
	return canonicalHash(canonical);
}

/** Signs the assertion for a proof that just committed (R-AS-1). */
export async function issueAssertion(
	deps: ServiceDeps,
	ctx: TenantContext,
	userId: string,
	proof: VerifiedProof,
	options: { actionHash: string | undefined; firstFactorPassed: boolean; audience?: string | undefined },
): Promise<string> {
	const key = await deps.signingKeys.active();
	const claims = assertionClaims({
		issuer: deps.issuer(),
		tenantId: ctx.tenantId,
		userId,
		proof,
		...(options.audience === undefined ? {} : { audience: options.audience }),
		firstFactorPassed: options.firstFactorPassed,
		...(options.actionHash === undefined ? {} : { actionHash: options.actionHash }),
		jti: Buffer.from(deps.random(16)).toString("base64url"),
		nowInSeconds: Math.floor(deps.clock().getTime() / 1000),
		ttlSeconds: ctx.settings.assertions.ttl_seconds,
	});
	// Signed off the event loop by core/compact-jws.ts (byte for byte what jose would sign; why not jose, measured, there).
	return signCompactJWS({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: ASSERTION_TYP }, claims, key.privateKey);
}

/**
 * Twofold reading one of its own assertions: our algorithm and type only, a
 * published kid, a good signature, our issuer, unexpired, and the claims a
 * proof needs. jku, jwk and x5u headers are never looked at (R-AS-2).
 */
export async function readAssertion(deps: ServiceDeps, token: unknown): Promise<AssertionClaims | null> {
	if (typeof token !== "string" || token.length > MAX_ASSERTION_LENGTH) return null;
	// Called by jose with the protected header once alg passed the allow-list, before the signature is checked: the
	// typ must be ours exactly (jose's own typ option would also take "application/…" and other letter cases), the
	// key only a published kid of ours.
	const keyFor = async (header: JWTHeaderParameters) => {
		const publicKey = header.typ === ASSERTION_TYP && typeof header.kid === "string" ? await deps.signingKeys.publicKey(header.kid) : null;
		if (publicKey === null) throw new Error("not one of Twofold's assertions");
		return publicKey;
	};
	let claims: Record<string, unknown>;
	try {
		({ payload: claims } = await jwtVerify(token, keyFor, { algorithms: [SIGNING_ALGORITHM], issuer: deps.issuer(), currentDate: deps.clock() }));
	} catch {
		return null;
	}
	// jose refused a past exp (exp <= now) and a wrong iss; iat may run ahead by the nodes' clock skew, no more.
	if (malformedClaims(claims).length > 0 || (claims.iat as number) > deps.clock().getTime() / 1000 + CLOCK_SKEW_SECONDS) return null;
	return claims as AssertionClaims;
}

/** POST /v1/assertions/redeem: marks the assertion's jti used, once ever (R-AS-5). */
export async function redeemAssertion(
	deps: ServiceDeps,
	ctx: TenantContext,
	token: string,
): Promise<Static<typeof RedeemResponse>> {
	const claims = await readAssertion(deps, token);
	// Another tenant's assertion reads as invalid: it is not this tenant's to spend (V-17).
	if (claims === null || claims.tid !== ctx.tenantId) throw new ServiceError("invalid_assertion");
	const now = deps.clock().getTime();
	const first = await deps.store.transaction(async (tx) => {
		await tx.redeemedAssertions.deleteExpired(now);
		return tx.redeemedAssertions.redeem({ jti: claims.jti, tenant_id: ctx.tenantId, user_id: claims.sub, expires_at: claims.exp * 1000, redeemed_at: now });
	});
	if (!first) throw new ServiceError("assertion_redeemed");
	const result: Static<typeof RedeemResponse> = {
		redeemed: true,
		jti: claims.jti,
		sub: claims.sub,
		exp: new Date(claims.exp * 1000).toISOString(),
	};
	if (typeof claims.action_hash === "string") result.action_hash = claims.action_hash;
	return result;
}
