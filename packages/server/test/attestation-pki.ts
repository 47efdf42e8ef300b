import { KeyObject, sign, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

/**
 * Certificate chains made in the test (V-15): roots, intermediates, WebAuthn attestation
 * certificates (FIDO's packed requirements: OU "Authenticator Attestation", CA false, the
 * id-fido-gen-ce-aaguid extension) and FIDO MDS3 BLOBs signed under a test-made root.
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 24 * 60 * 60 * 1000;
let serial = 1;

export interface Issued {
	cert: x509.X509Certificate;
	keys: CryptoKeyPair;
	/** For node:crypto sign(). */
	privateKey: KeyObject;
	der: Buffer;
	pem: string;
}

async function issue(input: {
	subject: string;
	issuer?: Issued;
	ca: boolean;
	extensions?: x509.Extension[];
	/** Revocation and issuer URLs put inside the certificate: Twofold must never fetch them. */
	crlUrl?: string;
}): Promise<Issued> {
	const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
	const extensions: x509.Extension[] = [
		new x509.BasicConstraintsExtension(input.ca, undefined, true),
		new x509.KeyUsagesExtension(input.ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature, true),
		await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
		...(input.issuer ? [await x509.AuthorityKeyIdentifierExtension.create(input.issuer.cert)] : []),
		...(input.crlUrl ? [new x509.CRLDistributionPointsExtension([input.crlUrl]), new x509.AuthorityInfoAccessExtension({ caIssuers: [`${input.crlUrl}/issuer.crt`], ocsp: [`${input.crlUrl}/ocsp`] })] : []),
		...(input.extensions ?? []),
	];
	const now = Date.now();
	const cert = await x509.X509CertificateGenerator.create({
		serialNumber: (serial++).toString(16).padStart(4, "0"),
		subject: input.subject,
		issuer: input.issuer ? input.issuer.cert.subject : input.subject,
		notBefore: new Date(now - DAY),
		notAfter: new Date(now + 365 * DAY),
		signingAlgorithm: ALG,
		publicKey: keys.publicKey,
		signingKey: input.issuer ? input.issuer.keys.privateKey : keys.privateKey,
		extensions,
	});
	const der = Buffer.from(cert.rawData);
	return { cert, keys, privateKey: KeyObject.from(keys.privateKey), der, pem: cert.toString("pem") };
}

export const makeRoot = (name: string, crlUrl?: string) => issue({ subject: `CN=${name} Root, O=${name}, C=US`, ca: true, crlUrl });
export const makeIntermediate = (name: string, root: Issued, crlUrl?: string) => issue({ subject: `CN=${name} Intermediate, O=${name}, C=US`, issuer: root, ca: true, crlUrl });

/** id-fido-gen-ce-aaguid (1.3.6.1.4.1.45724.1.1.4): an OCTET STRING of the 16 AAGUID bytes. */
const aaguidExtension = (aaguid: Buffer) => new x509.Extension("1.3.6.1.4.1.45724.1.1.4", false, Buffer.concat([Buffer.from([0x04, 0x10]), aaguid]));

/**
 * A packed attestation certificate (WebAuthn-3 §8.2.1), issued by `issuer`, or self-signed without one.
 * `certAaguid`: the model its id-fido-gen-ce-aaguid extension names (null: no extension).
 */
export const makeAttestationCert = (vendor: string, aaguid: Buffer, issuer?: Issued, crlUrl?: string, certAaguid: Buffer | null = aaguid) =>
	issue({
		subject: `CN=${vendor} Key, OU=Authenticator Attestation, O=${vendor}, C=US`,
		issuer,
		ca: false,
		extensions: certAaguid === null ? [] : [aaguidExtension(certAaguid)],
		crlUrl,
	});

export const makeMdsSigner = (root: Issued, crlUrl?: string) => issue({ subject: "CN=Test MDS Signer, O=Test FIDO, C=US", issuer: root, ca: false, crlUrl });

export const aaguidString = (aaguid: Buffer) => {
	const hex = aaguid.toString("hex");
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

export interface MdsEntryInput {
	aaguid: Buffer;
	description: string;
	roots: Issued[];
	statuses?: string[];
}

/** A FIDO MDS3 BLOB (FIDO Metadata Service v3.0 §3.1.6): a JWS, ES256, x5c = the signer (and intermediates). */
export function makeMdsBlob(signer: Issued, chain: Issued[], entries: MdsEntryInput[], options: { no?: number; nextUpdate?: string } = {}): string {
	const b64u = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
	const header = { alg: "ES256", typ: "JWT", x5c: [signer, ...chain].map((c) => c.der.toString("base64")) };
	const payload = {
		legalHeader: "test",
		no: options.no ?? 1,
		nextUpdate: options.nextUpdate ?? new Date(Date.now() + 30 * DAY).toISOString().slice(0, 10),
		entries: entries.map((entry) => ({
			aaguid: aaguidString(entry.aaguid),
			metadataStatement: {
				aaguid: aaguidString(entry.aaguid),
				description: entry.description,
				attestationTypes: ["basic_full"],
				authenticationAlgorithms: ["secp256r1_ecdsa_sha256_raw"],
				attestationRootCertificates: entry.roots.map((root) => root.der.toString("base64")),
			},
			statusReports: (entry.statuses ?? ["FIDO_CERTIFIED_L1"]).map((status) => ({ status, effectiveDate: "2025-01-01" })),
			timeOfLastStatusChange: "2025-01-01",
		})),
	};
	const signingInput = `${b64u(header)}.${b64u(payload)}`;
	const signature = sign("sha256", Buffer.from(signingInput), { key: signer.privateKey, dsaEncoding: "ieee-p1363" });
	return `${signingInput}.${signature.toString("base64url")}`;
}
