import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { convertCertBufferToPEM, getCertificateInfo } from "@simplewebauthn/server/helpers";
import { ConfigError, type Config } from "./config.js";
import { type AttestationTrust, NO_TRUST, verifyMetadataBlob } from "./factors/webauthn/attestation.js";
import { GLOBALSIGN_ROOT_CA_R3 } from "./factors/webauthn/fido-mds-root.js";

/**
 * Reads the operator's attestation trust anchors once, at start (V-15): the FIDO MDS BLOB
 * (TWOFOLD_FIDO_MDS_FILE, its signature chain verified, or the process does not start) and the
 * PEM roots in TWOFOLD_ATTESTATION_ROOTS_DIR. Nothing is downloaded: the operator refreshes the
 * file (FIDO publishes one a month) and restarts. A BLOB past its nextUpdate is still used, with
 * a warning, since refusing every "direct" registration would be an outage of its own.
 */
export async function loadAttestationTrust(
	config: Pick<Config, "attestation">,
	now: Date,
	log: (level: "info" | "warn", message: string, fields: object) => void,
): Promise<AttestationTrust> {
	const { mdsFile, mdsRootFile, rootsDir } = config.attestation;
	if (mdsFile === undefined && rootsDir === undefined) return NO_TRUST;
	const roots = rootsDir === undefined ? [] : rootsFromDir(rootsDir);
	if (mdsFile === undefined) {
		log("info", "attestation trust anchors loaded", { operator_roots: roots.length });
		return { ...NO_TRUST, roots };
	}
	const fidoRoots = mdsRootFile === undefined ? [GLOBALSIGN_ROOT_CA_R3] : certificatesIn(readText(mdsRootFile, "TWOFOLD_FIDO_MDS_ROOT_FILE"), "TWOFOLD_FIDO_MDS_ROOT_FILE");
	let verified: Awaited<ReturnType<typeof verifyMetadataBlob>>;
	try {
		verified = await verifyMetadataBlob(readText(mdsFile, "TWOFOLD_FIDO_MDS_FILE"), fidoRoots);
	} catch (error) {
		// The cause names what failed (path, signature); it holds no secret.
		throw new ConfigError(`TWOFOLD_FIDO_MDS_FILE is not a FIDO MDS BLOB signed under the configured root: ${(error as Error).message}`);
	}
	if (verified.mds !== null && new Date(`${verified.mds.nextUpdate}T00:00:00Z`).getTime() < now.getTime()) {
		log("warn", "the FIDO MDS BLOB is past its nextUpdate: download a fresh one (status reports may be missing)", { no: verified.mds.no, next_update: verified.mds.nextUpdate });
	}
	log("info", "attestation trust anchors loaded", { operator_roots: roots.length, mds_models: verified.models.size, mds_no: verified.mds?.no, mds_next_update: verified.mds?.nextUpdate });
	return { roots, ...verified };
}

function readText(path: string, name: string): string {
	try {
		return readFileSync(path, "utf8");
	} catch (error) {
		throw new ConfigError(`${name} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"}): ${path}`);
	}
}

/** Every certificate in a PEM text, normalized; a file with none, or one that does not parse, is a configuration error. */
function certificatesIn(text: string, origin: string): string[] {
	const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
	if (blocks.length === 0) throw new ConfigError(`${origin} holds no PEM certificate`);
	return blocks.map((block) => {
		const der = Buffer.from(block.replace(/-----[^-]+-----|\s/g, ""), "base64");
		try {
			getCertificateInfo(der);
		} catch {
			throw new ConfigError(`${origin} holds a certificate that does not parse`);
		}
		return convertCertBufferToPEM(der);
	});
}

function rootsFromDir(dir: string): string[] {
	let names: string[];
	try {
		names = readdirSync(dir).filter((name) => /\.(pem|crt)$/.test(name)).sort();
	} catch (error) {
		throw new ConfigError(`TWOFOLD_ATTESTATION_ROOTS_DIR cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"}): ${dir}`);
	}
	const roots = names.flatMap((name) => certificatesIn(readText(join(dir, name), "TWOFOLD_ATTESTATION_ROOTS_DIR"), `TWOFOLD_ATTESTATION_ROOTS_DIR/${name}`));
	if (roots.length === 0) throw new ConfigError(`TWOFOLD_ATTESTATION_ROOTS_DIR holds no .pem or .crt file: ${dir}`);
	return roots;
}
