import { SettingsService } from "@simplewebauthn/server";
import { convertCertBufferToPEM, decodeAttestationObject, getCertificateInfo, validateCertificatePath, verifyMDSBlob } from "@simplewebauthn/server/helpers";

/**
 * Attestation trust (V-15, WebAuthn-3 §7.1 steps 21-24): whether a registration's attestation
 * statement chains to a trust anchor the operator configured. SimpleWebAuthn checks the statement
 * itself (format, signature over authData||clientDataHash, the leaf's fields and AAGUID extension)
 * but skips certificate path validation when it has no roots for the format (its default for
 * packed, fido-u2f and tpm), so a self-signed x5c passes there. The trust decision is made here,
 * per Twofold instance, with SimpleWebAuthn's own helpers (validateCertificatePath, verifyMDSBlob).
 *
 * Module-global state in SimpleWebAuthn, and how it is kept out of the decision:
 * - MetadataService is never initialized: it is one statement cache per process (every tenant and
 *   every App in the process would share it), its "strict" mode refuses unknown AAGUIDs even for
 *   tenants that never asked for attestation, and initialize({statements}) drops the status
 *   reports. Disabled, its getStatement() answers undefined and the library falls back to the
 *   per-format roots below. The verified statements live in an AttestationTrust object instead.
 * - SettingsService's per-format roots are left at the library defaults (none for packed, fido-u2f,
 *   tpm; Apple's and Google's for apple and android-key, which only add a check). Only the "mds"
 *   roots are used, by verifyMDSBlob, which reads them synchronously before its first await: they
 *   are set, the call started and the old value restored within one synchronous block, so two
 *   loads with different roots (two Apps in one process) cannot see each other's.
 * - The library's fetch (CRLs named inside certificates, MDS downloads) is replaced, once per
 *   process, by one that refuses: certificate checks make no outbound call (privacy, SSRF, and a
 *   registration never waits on a third party). Revocation comes from the MDS file's status reports.
 */

// The library's fetch is not exported: reach its module through the package's own entry point, so it
// is the very instance the library uses. A missing hook stops the process rather than fetch silently.
const fetchModule = (await import(new URL("./helpers/fetch.js", import.meta.resolve("@simplewebauthn/server")).href)) as {
	_fetchInternals?: { stubThis: (url: string) => Promise<Response> };
};
if (fetchModule._fetchInternals === undefined || typeof fetchModule._fetchInternals.stubThis !== "function") {
	throw new Error("@simplewebauthn/server no longer exposes _fetchInternals: certificate checks could reach the network; refusing to start");
}
fetchModule._fetchInternals.stubThis = () => Promise.reject(new Error("Twofold makes no outbound call from certificate checks"));

/**
 * FIDO MDS status reports (FIDO Metadata Service v3.0 §3.1.4) that refuse a model under "direct".
 * Any report with one of these refuses it, whatever came after (a compromised key stays compromised
 * in the devices already sold; a report naming one batch's certificate refuses the model too).
 * Not refused: FIDO_CERTIFIED*, NOT_FIDO_CERTIFIED, SELF_ASSERTION_SUBMITTED, UPDATE_AVAILABLE.
 */
export const REFUSED_STATUSES: readonly string[] = [
	"REVOKED",
	"USER_VERIFICATION_BYPASS",
	"ATTESTATION_KEY_COMPROMISE",
	"USER_KEY_REMOTE_COMPROMISE",
	"USER_KEY_PHYSICAL_COMPROMISE",
];

/** One authenticator model from the verified MDS BLOB. */
export interface MetadataModel {
	aaguid: string;
	description: string | null;
	/** The statement's attestationRootCertificates, PEM. */
	roots: string[];
	/** The status of every report, oldest first. */
	statuses: string[];
	/** One of its roots is also another model's: the root alone does not say which model a key is. */
	sharedRoot: boolean;
}

/** The trust anchors of one Twofold instance (the operator's, not a tenant's: tenants only choose "direct"). */
export interface AttestationTrust {
	/** TWOFOLD_ATTESTATION_ROOTS_DIR: PEM roots any attested model may chain to. */
	roots: readonly string[];
	/** TWOFOLD_FIDO_MDS_FILE, verified: the models by AAGUID (lower-case, dashed). */
	models: ReadonlyMap<string, MetadataModel>;
	/** The BLOB's serial number and nextUpdate, for logs; null without an MDS file. */
	mds: { no: number; nextUpdate: string } | null;
}

export const NO_TRUST: AttestationTrust = { roots: [], models: new Map(), mds: null };

/** "direct" can only be honoured with at least one anchor to chain to. */
export function hasTrustAnchors(trust: AttestationTrust | undefined): boolean {
	return trust !== undefined && (trust.roots.length > 0 || [...trust.models.values()].some((model) => model.roots.length > 0));
}

const pemBody = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, "");

interface BlobEntry {
	aaguid?: string;
	metadataStatement?: { description?: string; attestationRootCertificates?: string[] };
	statusReports?: { status?: string }[];
}

/**
 * Verifies an MDS3 BLOB (a JWS) with SimpleWebAuthn's verifyMDSBlob: its x5c must chain to one of
 * `fidoRoots` (FIDO's GlobalSign Root CA - R3 unless the operator names another) and its signature
 * must verify with the leaf. Throws when either fails.
 */
export async function verifyMetadataBlob(blob: string, fidoRoots: readonly string[]): Promise<Pick<AttestationTrust, "models" | "mds">> {
	if (fidoRoots.length === 0) throw new Error("no root certificate to verify the MDS BLOB with");
	const previous = SettingsService.getRootCertificates({ identifier: "mds" });
	let pending: ReturnType<typeof verifyMDSBlob>;
	// One synchronous block: verifyMDSBlob reads the "mds" roots before its first await (see above).
	SettingsService.setRootCertificates({ identifier: "mds", certificates: [...fidoRoots] });
	try {
		pending = verifyMDSBlob(blob.trim());
	} finally {
		SettingsService.setRootCertificates({ identifier: "mds", certificates: previous });
	}
	const { payload } = await pending;
	const models = new Map<string, MetadataModel>();
	for (const entry of payload.entries as BlobEntry[]) {
		if (typeof entry.aaguid !== "string" || entry.metadataStatement === undefined) continue; // UAF and U2F entries have no AAGUID
		models.set(entry.aaguid.toLowerCase(), {
			aaguid: entry.aaguid.toLowerCase(),
			description: entry.metadataStatement.description ?? null,
			roots: (entry.metadataStatement.attestationRootCertificates ?? []).map((base64) => convertCertBufferToPEM(Buffer.from(base64, "base64"))),
			statuses: (entry.statusReports ?? []).map((report) => String(report.status)),
			sharedRoot: false,
		});
	}
	const modelsPerRoot = new Map<string, number>();
	for (const model of models.values()) for (const root of new Set(model.roots.map(pemBody))) modelsPerRoot.set(root, (modelsPerRoot.get(root) ?? 0) + 1);
	for (const model of models.values()) model.sharedRoot = model.roots.some((root) => (modelsPerRoot.get(pemBody(root)) ?? 0) > 1);
	return { models, mds: { no: Number(payload.no), nextUpdate: String(payload.nextUpdate) } };
}

/** id-fido-gen-ce-aaguid (WebAuthn-3 §8.2.1). */
const AAGUID_EXTENSION = "1.3.6.1.4.1.45724.1.1.4";

function aaguidString(bytes: Uint8Array): string {
	const hex = Buffer.from(bytes).toString("hex");
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export type AttestationVerdict =
	| { trusted: true; model: string | null }
	| {
			trusted: false;
			reason: "no_attestation" | "self_attestation" | "unsupported_format" | "refused_status" | "no_trust_anchor" | "untrusted_chain";
	  };

/**
 * The trust decision for a registration SimpleWebAuthn verified: its attestation statement has an x5c
 * whose path reaches one of the model's MDS roots or an operator root, and the model has no refused
 * status report. Self attestation (packed without x5c) and "none" prove nothing about the authenticator.
 */
export async function judgeAttestation(
	trust: AttestationTrust,
	registration: { fmt: string; aaguid: string; attestationObject: Uint8Array<ArrayBuffer> },
): Promise<AttestationVerdict> {
	try {
		return await judge(trust, registration);
	} catch {
		// A certificate the library did not need to parse (an intermediate) and that does not parse: untrusted,
		// which refuses under "direct" and leaves a tenant with "none" unaffected.
		return { trusted: false, reason: "untrusted_chain" };
	}
}

async function judge(trust: AttestationTrust, registration: { fmt: string; aaguid: string; attestationObject: Uint8Array<ArrayBuffer> }): Promise<AttestationVerdict> {
	if (registration.fmt === "none") return { trusted: false, reason: "no_attestation" };
	// android-safetynet carries its chain inside a JWS and is retired by Google; not accepted as attestation.
	if (!["packed", "fido-u2f", "tpm", "android-key", "apple"].includes(registration.fmt)) return { trusted: false, reason: "unsupported_format" };
	const statement = decodeAttestationObject(registration.attestationObject).get("attStmt");
	const x5c = statement.get("x5c");
	if (!Array.isArray(x5c) || x5c.length === 0) return { trusted: false, reason: "self_attestation" };

	const model = trust.models.get(registration.aaguid.toLowerCase());
	if (model !== undefined && model.statuses.some((status) => REFUSED_STATUSES.includes(status))) return { trusted: false, reason: "refused_status" };
	const anchors = [...(model?.roots ?? []), ...trust.roots];
	if (anchors.length === 0) return { trusted: false, reason: "no_trust_anchor" };

	// RFC 5280 §6.1.4 (k): every issuer on the path is a CA; the attestation certificate itself is not.
	const leaf = getCertificateInfo(x5c[0]!);
	if (leaf.basicConstraintsCA) return { trusted: false, reason: "untrusted_chain" };
	if (x5c.slice(1).some((cert) => !getCertificateInfo(cert).basicConstraintsCA)) return { trusted: false, reason: "untrusted_chain" };

	// The AAGUID names the model whose status reports are read, so it must be the certificate's word, not the
	// authenticator's: FIDO requires id-fido-gen-ce-aaguid when a root serves several models (WebAuthn-3 §8.2.1),
	// and when present it must match (a revoked model's key cannot pass as a sibling model under the same root).
	const extension = leaf.parsedCertificate.tbsCertificate.extensions?.find((ext) => ext.extnID === AAGUID_EXTENSION);
	if (extension !== undefined) {
		const value = Buffer.from(extension.extnValue.buffer);
		// An OCTET STRING (04 10) wrapping the 16 bytes.
		if (value.length !== 18 || value[0] !== 0x04 || value[1] !== 0x10 || aaguidString(value.subarray(2)) !== registration.aaguid.toLowerCase()) {
			return { trusted: false, reason: "untrusted_chain" };
		}
	} else if (model?.sharedRoot === true) {
		return { trusted: false, reason: "untrusted_chain" };
	}

	const chain = x5c.map((cert) => convertCertBufferToPEM(cert));
	const anchorBodies = new Set(anchors.map(pemBody));
	// A leaf that is itself a configured anchor (MDS "self-referencing" statements) is trusted as such.
	if (anchorBodies.has(pemBody(chain[0]!))) return { trusted: true, model: model?.description ?? null };
	// Some authenticators send the root too; the library refuses a path that repeats its anchor.
	const path = [chain[0]!, ...chain.slice(1).filter((pem) => !anchorBodies.has(pemBody(pem)))];
	// One anchor per call: the library stops at the first anchor whose path building throws.
	for (const anchor of anchors) {
		try {
			if (await validateCertificatePath(path, [anchor])) return { trusted: true, model: model?.description ?? null };
		} catch {
			// Not this anchor.
		}
	}
	return { trusted: false, reason: "untrusted_chain" };
}
