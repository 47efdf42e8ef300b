import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadAttestationTrust } from "../src/attestation-trust.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { hasTrustAnchors, verifyMetadataBlob } from "../src/factors/webauthn/attestation.js";
import { GLOBALSIGN_ROOT_CA_R3 } from "../src/factors/webauthn/fido-mds-root.js";
import { aaguidString, makeIntermediate, makeMdsBlob, makeMdsSigner, makeRoot } from "./attestation-pki.js";

/** The FIDO MDS BLOB's own signature chain (V-15): verified against the configured root, offline. */
describe("attestation trust anchors", () => {
	it("V-15: a BLOB signed under the configured root loads; under another root, tampered, or unsigned it stops the start", async () => {
		const root = await makeRoot("Test FIDO");
		const other = await makeRoot("Other FIDO");
		const intermediate = await makeIntermediate("Test FIDO", root);
		const signer = await makeMdsSigner(intermediate);
		const vendorRoot = await makeRoot("Vendor");
		const aaguid = Buffer.alloc(16, 0xab);
		const blob = makeMdsBlob(signer, [intermediate], [{ aaguid, description: "Vendor Key 5", roots: [vendorRoot], statuses: ["FIDO_CERTIFIED_L1", "REVOKED"] }], { no: 42 });

		const loaded = await verifyMetadataBlob(blob, [root.pem]);
		expect(loaded.mds?.no).toBe(42);
		expect(loaded.models.get(aaguidString(aaguid))).toMatchObject({ description: "Vendor Key 5", statuses: ["FIDO_CERTIFIED_L1", "REVOKED"] });
		expect(hasTrustAnchors({ roots: [], ...loaded })).toBe(true);

		await expect(verifyMetadataBlob(blob, [other.pem])).rejects.toThrow(/certificate path/);
		// The FIDO root Twofold ships does not vouch for a test-made BLOB either.
		await expect(verifyMetadataBlob(blob, [GLOBALSIGN_ROOT_CA_R3])).rejects.toThrow();
		const [h, p, s] = blob.split(".");
		const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
		payload.entries[0].statusReports = [{ status: "FIDO_CERTIFIED_L1" }]; // a revocation edited away
		const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
		await expect(verifyMetadataBlob(tampered, [root.pem])).rejects.toThrow(/signature/);
		// A BLOB whose x5c is the signer alone, signed by a key of its own making.
		const selfMade = await makeRoot("Self");
		const forged = makeMdsBlob(selfMade, [], [{ aaguid, description: "x", roots: [vendorRoot] }]);
		await expect(verifyMetadataBlob(forged, [root.pem])).rejects.toThrow();
		await expect(verifyMetadataBlob(blob, [])).rejects.toThrow();
	});

	it("V-15: SimpleWebAuthn's MDS roots are process-global; concurrent loads under different roots do not see each other's", async () => {
		const rootA = await makeRoot("A");
		const rootB = await makeRoot("B");
		const blobA = makeMdsBlob(await makeMdsSigner(rootA), [], [{ aaguid: Buffer.alloc(16, 1), description: "A", roots: [rootA] }]);
		const blobB = makeMdsBlob(await makeMdsSigner(rootB), [], [{ aaguid: Buffer.alloc(16, 2), description: "B", roots: [rootB] }]);
		const results = await Promise.allSettled([
			verifyMetadataBlob(blobA, [rootA.pem]),
			verifyMetadataBlob(blobB, [rootA.pem]),
			verifyMetadataBlob(blobB, [rootB.pem]),
			verifyMetadataBlob(blobA, [rootB.pem]),
		]);
		expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected"]);
	});

	it("the shipped FIDO MDS root is Debian's GlobalSign Root CA - R3", () => {
		const system = "/etc/ssl/certs/GlobalSign_Root_CA_-_R3.pem";
		const shipped = new X509Certificate(GLOBALSIGN_ROOT_CA_R3);
		expect(shipped.fingerprint256).toBe("CB:B5:22:D7:B7:F1:27:AD:6A:01:13:86:5B:DF:1C:D4:10:2E:7D:07:59:AF:63:5A:7C:F4:72:0D:C9:63:C5:3B");
		if (existsSync(system)) expect(shipped.raw.equals(new X509Certificate(readFileSync(system)).raw)).toBe(true);
	});

	it("configuration: files are read at start, and a bad one stops it with the variable's name", async () => {
		const dir = mkdtempSync(join(tmpdir(), "twofold-attest-"));
		const env = (extra: Record<string, string>) => loadConfig({ TWOFOLD_DATA_DIR: dir, ...extra }, dir);
		const warn = () => undefined;
		expect(() => env({ TWOFOLD_FIDO_MDS_ROOT_FILE: "root.pem" })).toThrow(ConfigError);
		expect(hasTrustAnchors(await loadAttestationTrust(env({}), new Date(), warn))).toBe(false);

		const root = await makeRoot("Operator");
		writeFileSync(join(dir, "garbage.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
		await expect(loadAttestationTrust(env({ TWOFOLD_ATTESTATION_ROOTS_DIR: dir }), new Date(), warn)).rejects.toThrow(/TWOFOLD_ATTESTATION_ROOTS_DIR/);
		const rootsDir = mkdtempSync(join(tmpdir(), "twofold-roots-"));
		writeFileSync(join(rootsDir, "operator.pem"), root.pem);
		const trust = await loadAttestationTrust(env({ TWOFOLD_ATTESTATION_ROOTS_DIR: rootsDir }), new Date(), warn);
		expect(trust.roots).toHaveLength(1);
		expect(hasTrustAnchors(trust)).toBe(true);

		const fido = await makeRoot("FIDO");
		writeFileSync(join(dir, "fido-root.pem"), fido.pem);
		const stale = makeMdsBlob(await makeMdsSigner(fido), [], [{ aaguid: Buffer.alloc(16, 3), description: "M", roots: [root] }], { nextUpdate: "2020-01-01" });
		writeFileSync(join(dir, "blob.jwt"), stale);
		const warnings: string[] = [];
		const loaded = await loadAttestationTrust(env({ TWOFOLD_FIDO_MDS_FILE: "blob.jwt", TWOFOLD_FIDO_MDS_ROOT_FILE: "fido-root.pem" }), new Date(), (level, msg) => level === "warn" && warnings.push(msg));
		expect(loaded.models.size).toBe(1);
		expect(warnings).toEqual([expect.stringContaining("nextUpdate")]);
		// Without the operator's root, the shipped FIDO root is used, and a test-made BLOB is refused.
		await expect(loadAttestationTrust(env({ TWOFOLD_FIDO_MDS_FILE: "blob.jwt" }), new Date(), warn)).rejects.toThrow(/TWOFOLD_FIDO_MDS_FILE/);
		await expect(loadAttestationTrust(env({ TWOFOLD_FIDO_MDS_FILE: "missing.jwt" }), new Date(), warn)).rejects.toThrow(/TWOFOLD_FIDO_MDS_FILE cannot be read/);
	});
});
