import { createHash } from "node:crypto";
import { parseTenantSettings } from "../contract/tenant-settings.js";
import { ServiceError } from "../contract/service-error.js";
import { isRasterType, rasterImageType, type RasterType } from "../core/raster-image.js";
import type { Store } from "../store/store.js";
import type { ServiceDeps } from "./deps.js";
import { requireAdmin } from "./require-admin.js";
import type { TenantContext } from "./tenant-context.js";

/**
 * Logos for the hosted prompt (issue 15): the tenant's, and one per client. Uploaded to Twofold and stored in the
 * database, never fetched from a URL (no outbound call, nothing from another origin on a page). Raster only, checked
 * by its bytes against the declared type, at most 64 KB; served by GET /t/{tenant}/logo with the stored type,
 * nosniff and a sandbox CSP (http/routes/logos.ts).
 */
export const MAX_LOGO_BYTES = 64 * 1024;

/** "tenant", or "client:<client id>" for an OIDC client of the tenant. */
export type LogoOwner = "tenant" | `client:${string}`;
const OWNER = /^(?:tenant|client:[A-Za-z0-9._~-]{1,128})$/;

export interface StoredLogo {
	contentType: RasterType;
	bytes: Uint8Array;
	/** SHA-256 of the bytes, hex: an ETag. */
	sha256: string;
	updatedAt: number;
}

function checkOwner(owner: string): asserts owner is LogoOwner {
	// A programming error, not a client's: routes build the owner from a validated id.
	if (!OWNER.test(owner)) throw new TypeError(`not a logo owner: ${JSON.stringify(owner.slice(0, 40))}`);
}

/** The media type of a Content-Type header value, without parameters, lowercased. */
function mediaType(contentType: string | undefined): string {
	return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * Stores (or replaces) a logo. Admin only. Refused: a declared type that is not PNG, JPEG, WebP or GIF
 * (unsupported_logo_type: SVG above all), more than 64 KB (payload_too_large), bytes that are not a well-formed image
 * of the declared type (invalid_logo: a PNG header followed by HTML, a GIF sent as image/png).
 */
export async function setLogo(deps: ServiceDeps, ctx: TenantContext, owner: string, bytes: Uint8Array, contentType: string | undefined): Promise<void> {
	requireAdmin(ctx);
	checkOwner(owner);
	const declared = mediaType(contentType);
	if (!isRasterType(declared)) throw new ServiceError("unsupported_logo_type");
	if (bytes.length > MAX_LOGO_BYTES) throw new ServiceError("payload_too_large");
	if (rasterImageType(bytes) !== declared) throw new ServiceError("invalid_logo");
	const sha256 = createHash("sha256").update(bytes).digest("hex");
	await deps.store.transaction(async (tx) => {
		await tx.logos.put({ tenant_id: ctx.tenantId, owner, content_type: declared, bytes, sha256, updated_at: deps.clock().getTime() });
		if (owner === "tenant") await setHasLogo(tx, ctx.tenantId, true);
	});
}

/** Removes a logo; false when there was none. Admin only. */
export async function deleteLogo(deps: ServiceDeps, ctx: TenantContext, owner: string): Promise<boolean> {
	requireAdmin(ctx);
	checkOwner(owner);
	return deps.store.transaction(async (tx) => {
		const deleted = await tx.logos.delete(ctx.tenantId, owner);
		if (owner === "tenant") await setHasLogo(tx, ctx.tenantId, false);
		return deleted;
	});
}

/** The stored logo, for the public route; undefined when none (or another tenant's owner: the key is tenant and owner). */
export async function getLogo(deps: ServiceDeps, tenantId: string, owner: string): Promise<StoredLogo | undefined> {
	checkOwner(owner);
	const row = await deps.store.logos.find(tenantId, owner);
	if (row === undefined || !isRasterType(row.content_type)) return undefined;
	return { contentType: row.content_type, bytes: row.bytes, sha256: row.sha256, updatedAt: row.updated_at };
}

/** Whether an owner has a logo (a client's view shows it; the tenant's is settings.branding.has_logo). */
export async function hasLogo(deps: ServiceDeps, tenantId: string, owner: string): Promise<boolean> {
	checkOwner(owner);
	return deps.store.logos.exists(tenantId, owner);
}

/**
 * branding.has_logo is read-only and follows the stored logo: it is written here, in the logo's transaction, on the
 * tenant row held for update, so a concurrent PATCH /v1/tenant (which reads the row the same way) cannot undo it.
 */
async function setHasLogo(tx: Store, tenantId: string, value: boolean): Promise<void> {
	const row = await tx.tenants.findForUpdate(tenantId);
	if (row === undefined) throw new ServiceError("forbidden");
	const settings = parseTenantSettings(row.settings, row.name);
	if (settings.branding.has_logo === value) return;
	await tx.tenants.updateSettings(tenantId, JSON.stringify({ ...settings, branding: { ...settings.branding, has_logo: value } }));
}
