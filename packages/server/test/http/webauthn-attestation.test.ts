import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REFUSED_STATUSES } from "../../src/factors/webauthn/attestation.js";
import { aaguidString, type Issued, makeAttestationCert, makeIntermediate, makeMdsBlob, makeMdsSigner, makeRoot, type MdsEntryInput } from "../attestation-pki.js";
import { buildTestApp, DIALECTS, type TestApp } from "../helpers.js";
import { type AttestationStyle, SoftwareAuthenticator } from "../software-authenticator.js";

const ORIGIN = "http://localhost:5173";
const RP_ID = "localhost";
const WEBAUTHN = { rp_id: RP_ID, rp_name: "Acme", origins: [ORIGIN] };

const aaguid = (byte: number) => Buffer.alloc(16, byte);
const GOOD = aaguid(0x11);
const UPDATE_AVAILABLE = aaguid(0x12);
const NOT_IN_MDS = aaguid(0x13);
const refusedModels = REFUSED_STATUSES.map((status, i) => ({ status, aaguid: aaguid(0x20 + i) }));

/** Certificates and CRL/AIA URLs are made here; every URL points at a server that counts what reaches it. */
let crlServer: Server;
const crlHits: string[] = [];
let crlPort = 0;
const UNRESOLVABLE_CRL_HOST = "crl.twofold-attestation-test.invalid";
let pki: {
	fidoRoot: Issued;
	vendorRoot: Issued;
	vendorIntermediate: Issued;
	operatorRoot: Issued;
	strangerRoot: Issued;
	env: Record<string, string>;
};

/** Every outgoing TCP connection this process starts, with its target (net.Socket is what fetch, http and pg all use). */
const connections: string[] = [];
const originalConnect = net.Socket.prototype.connect;

beforeAll(async () => {
	crlServer = createServer((req, res) => {
		crlHits.push(req.url ?? "");
		res.statusCode = 404;
		res.end();
	});
	await new Promise<void>((resolve) => crlServer.listen(0, "127.0.0.1", resolve));
	crlPort = (crlServer.address() as net.AddressInfo).port;
	const crlUrl = `http://127.0.0.1:${crlPort}/crl`;
	const fidoRoot = await makeRoot("Test FIDO Alliance", crlUrl);
	const mdsSigner = await makeMdsSigner(fidoRoot, `http://${UNRESOLVABLE_CRL_HOST}/mds.crl`);
	const vendorRoot = await makeRoot("Vendor");
	const vendorIntermediate = await makeIntermediate("Vendor", vendorRoot, crlUrl);
	const operatorRoot = await makeRoot("Operator");
	const strangerRoot = await makeRoot("Stranger");
	const entries: MdsEntryInput[] = [
		{ aaguid: GOOD, description: "Vendor Key 5 NFC", roots: [vendorRoot] },
		{ aaguid: UPDATE_AVAILABLE, description: "Vendor Key 4", roots: [vendorRoot], statuses: ["FIDO_CERTIFIED_L1", "UPDATE_AVAILABLE"] },
		...refusedModels.map(({ status, aaguid }) => ({ aaguid, description: `Vendor ${status}`, roots: [vendorRoot], statuses: ["FIDO_CERTIFIED_L1", status] })),
	];
	const dir = mkdtempSync(join(tmpdir(), "twofold-attestation-"));
	writeFileSync(join(dir, "mds.jwt"), makeMdsBlob(mdsSigner, [], entries));
	writeFileSync(join(dir, "fido-root.pem"), fidoRoot.pem);
	const rootsDir = mkdtempSync(join(tmpdir(), "twofold-attestation-roots-"));
	writeFileSync(join(rootsDir, "operator.pem"), operatorRoot.pem);
	pki = {
		fidoRoot,
		vendorRoot,
		vendorIntermediate,
		operatorRoot,
		strangerRoot,
		env: { TWOFOLD_FIDO_MDS_FILE: join(dir, "mds.jwt"), TWOFOLD_FIDO_MDS_ROOT_FILE: join(dir, "fido-root.pem"), TWOFOLD_ATTESTATION_ROOTS_DIR: rootsDir },
	};
	net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
		// net.connect() passes its normalized [options, callback] array; a direct call passes (options) or (port, host).
		const [first, second] = (Array.isArray(args[0]) ? args[0] : args) as [unknown, unknown];
		const target = typeof first === "object" && first !== null ? (first as { host?: unknown; port?: unknown; path?: unknown }) : { port: first, host: second };
		connections.push(`${String(target.host ?? target.path ?? "")}:${String(target.port ?? "")}`);
		return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
	} as typeof net.Socket.prototype.connect;
});

afterAll(async () => {
	net.Socket.prototype.connect = originalConnect;
	await new Promise((resolve) => crlServer.close(resolve));
});

/** A packed attestation whose x5c is `chain` (leaf first), signed by the leaf's key. */
const full = (leaf: Issued, ...rest: Issued[]): AttestationStyle => ({ fmt: "packed", x5c: [leaf, ...rest].map((c) => c.der), key: leaf.privateKey });

const amrOf = (assertion: string) => JSON.parse(Buffer.from(assertion.split(".")[1]!, "base64url").toString()).amr as string[];

describe.each(DIALECTS)("WebAuthn attestation \"direct\" (%s)", (dialect) => {
	let t: TestApp;
	let noneKey: string;
	beforeAll(async () => {
		t = await buildTestApp({ dialect, env: pki.env });
		const patched = await t.call("PATCH", "/v1/tenant", { webauthn: { ...WEBAUTHN, attestation: "direct" } });
		expect(patched.status, patched.body).toBe(200);
		// A second tenant on the same node that does not ask for attestation.
		const other = await t.app.services.tenants.create(`none-${dialect}`);
		noneKey = other.apiKey;
		expect((await t.call("PATCH", "/v1/tenant", { webauthn: WEBAUTHN }, noneKey)).status).toBe(200);
	});
	afterAll(() => t.close());

	async function attempt(user: string, model: Buffer, style: AttestationStyle, key?: string) {
		const authenticator = new SoftwareAuthenticator(RP_ID, ORIGIN);
		authenticator.aaguid = model;
		const enrolled = await t.call("POST", `/v1/users/${user}/factors`, { type: "webauthn" }, key);
		expect(enrolled.status, enrolled.body).toBe(201);
		const res = await t.call("POST", `/v1/users/${user}/factors/${enrolled.json.factor.id}/confirm`, { credential: authenticator.register(enrolled.json.webauthn.options, {}, style) }, key);
		return Object.assign(res, { authenticator });
	}

	/** The amr of a verify with the registered key (proofs.ts), beside the confirm's (factors.ts). */
	async function verifyAmr(user: string, authenticator: SoftwareAuthenticator, key?: string) {
		const c = await t.call("POST", `/v1/users/${user}/challenges`, { type: "webauthn" }, key);
		expect(c.status, c.body).toBe(201);
		const verified = await t.call("POST", `/v1/users/${user}/verify`, { challenge_id: c.json.challenge.id, credential: authenticator.assert(c.json.webauthn.options) }, key);
		expect(verified.status, verified.body).toBe(200);
		return amrOf(verified.json.assertion);
	}

	it("V-15: a packed attestation whose full x5c chain reaches the model's MDS root is accepted; the factor names its model, and only it is hwk", async () => {
		const leaf = await makeAttestationCert("Vendor", GOOD, pki.vendorIntermediate, `http://127.0.0.1:${crlPort}/leaf`);
		const res = await attempt("att-good", GOOD, full(leaf, pki.vendorIntermediate));
		expect(res.status, res.body).toBe(200);
		expect(res.json.factor.webauthn).toEqual({ aaguid: aaguidString(GOOD), attestation: "verified", model: "Vendor Key 5 NFC" });
		expect(amrOf(res.json.assertion)).toEqual(["hwk", "user"]);
		expect(await verifyAmr("att-good", res.authenticator)).toEqual(["hwk", "user"]);
		const listed = await t.call("GET", "/v1/users/att-good/factors");
		expect(listed.json.factors[0].webauthn).toEqual({ aaguid: aaguidString(GOOD), attestation: "verified", model: "Vendor Key 5 NFC" });
		// Some authenticators send the root too.
		const withRoot = await attempt("att-good-root", GOOD, full(leaf, pki.vendorIntermediate, pki.vendorRoot));
		expect(withRoot.status, withRoot.body).toBe(200);
		// A model with only an UPDATE_AVAILABLE report is not refused.
		const updatable = await attempt("att-update", UPDATE_AVAILABLE, full(await makeAttestationCert("Vendor", UPDATE_AVAILABLE, pki.vendorIntermediate), pki.vendorIntermediate));
		expect(updatable.status, updatable.body).toBe(200);
	});

	it("V-15: a chain to an operator root (TWOFOLD_ATTESTATION_ROOTS_DIR) is accepted for a model the MDS file does not list", async () => {
		const res = await attempt("att-operator", NOT_IN_MDS, full(await makeAttestationCert("Operator", NOT_IN_MDS, pki.operatorRoot)));
		expect(res.status, res.body).toBe(200);
		expect(res.json.factor.webauthn).toEqual({ aaguid: aaguidString(NOT_IN_MDS), attestation: "verified", model: null });
		expect(amrOf(res.json.assertion)[0]).toBe("hwk");
	});

	it("V-15: self attestation, a self-signed x5c, a chain to an unconfigured root, and attestation none are refused", async () => {
		const stranger = await makeAttestationCert("Stranger", GOOD, pki.strangerRoot);
		const strangerUnknown = await makeAttestationCert("Stranger", NOT_IN_MDS, pki.strangerRoot);
		const vendorLeaf = await makeAttestationCert("Vendor", GOOD, pki.vendorIntermediate);
		const cases: [string, Buffer, AttestationStyle][] = [
			["packed self attestation", GOOD, { fmt: "packed-self" }],
			["self-signed x5c for a made-up vendor", NOT_IN_MDS, full(await makeAttestationCert("Made Up", NOT_IN_MDS))],
			["self-signed x5c claiming an MDS model", GOOD, full(await makeAttestationCert("Vendor", GOOD))],
			["chain to an unconfigured root, MDS model", GOOD, full(stranger)],
			["chain to an unconfigured root sent along, MDS model", GOOD, full(stranger, pki.strangerRoot)],
			["chain to an unconfigured root, unknown model", NOT_IN_MDS, full(strangerUnknown, pki.strangerRoot)],
			// The MDS roots belong to their model: another model's root does not vouch for an operator-unknown one.
			["the vendor's chain for a model the vendor root is not listed for", NOT_IN_MDS, full(await makeAttestationCert("Vendor", NOT_IN_MDS, pki.vendorIntermediate), pki.vendorIntermediate)],
			// RFC 5280 §6.1.4 (k): a genuine attestation certificate (CA false) cannot issue another one.
			["a certificate issued by an attestation certificate (not a CA)", GOOD, full(await makeAttestationCert("Vendor", GOOD, vendorLeaf), vendorLeaf, pki.vendorIntermediate)],
			["attestation none", GOOD, { fmt: "none" }],
		];
		const outcomes: Record<string, unknown> = {};
		for (const [index, [name, model, style]] of cases.entries()) outcomes[name] = (await attempt(`att-bad-${index}`, model, style)).json.error?.code ?? "accepted";
		expect(outcomes).toEqual(Object.fromEntries(cases.map(([name]) => [name, "invalid_credential"])));
	});

	it("V-15: a model with a REVOKED or compromise status report in the MDS file is refused, whatever its chain", async () => {
		const outcomes: Record<string, unknown> = {};
		for (const { status, aaguid: model } of refusedModels) {
			const leaf = await makeAttestationCert("Vendor", model, pki.vendorIntermediate);
			outcomes[status] = (await attempt(`att-${status.toLowerCase()}`, model, full(leaf, pki.vendorIntermediate))).json.error?.code ?? "accepted";
		}
		expect(outcomes).toEqual(Object.fromEntries(REFUSED_STATUSES.map((status) => [status, "invalid_credential"])));
		// A revoked model's key passing as its sibling under the same vendor root: its certificate names the revoked
		// model, or names none (FIDO requires the extension when a root serves several models).
		const sibling = refusedModels.find((m) => m.status === "REVOKED")!.aaguid;
		const namesRevoked = await makeAttestationCert("Vendor", GOOD, pki.vendorIntermediate, undefined, sibling);
		const namesNone = await makeAttestationCert("Vendor", GOOD, pki.vendorIntermediate, undefined, null);
		expect((await attempt("att-sibling-named", GOOD, full(namesRevoked, pki.vendorIntermediate))).json.error?.code).toBe("invalid_credential");
		expect((await attempt("att-sibling-unnamed", GOOD, full(namesNone, pki.vendorIntermediate))).json.error?.code).toBe("invalid_credential");
		// Under a root of one model only, a certificate without the extension is that model's.
		const unnamedOperator = await attempt("att-unnamed-op", NOT_IN_MDS, full(await makeAttestationCert("Operator", NOT_IN_MDS, pki.operatorRoot, undefined, null)));
		expect(unnamedOperator.status, unnamedOperator.body).toBe(200);
		// Even through an operator root: the status report is about the model.
		const revoked = refusedModels.find((m) => m.status === "REVOKED")!.aaguid;
		const viaOperator = await attempt("att-revoked-op", revoked, full(await makeAttestationCert("Operator", revoked, pki.operatorRoot)));
		expect(viaOperator.json.error?.code).toBe("invalid_credential");
	});

	it("attestation none (another tenant, same node): self attestation registers, but as an unattested software key (swk)", async () => {
		const res = await attempt("att-none", GOOD, { fmt: "packed-self" }, noneKey);
		expect(res.status, res.body).toBe(200);
		expect(res.json.factor.webauthn).toEqual({ aaguid: aaguidString(GOOD), attestation: "none", model: null });
		expect(amrOf(res.json.assertion)).toEqual(["swk", "user"]);
		// A verify with the key later says the same.
		expect(await verifyAmr("att-none", res.authenticator, noneKey)).toEqual(["swk", "user"]);
		// An x5c with an intermediate that does not parse: refused under "direct", unattested under "none".
		const leaf = await makeAttestationCert("Vendor", GOOD, pki.vendorIntermediate);
		const broken: AttestationStyle = { fmt: "packed", x5c: [leaf.der, Buffer.from("not a certificate")], key: leaf.privateKey };
		expect((await attempt("att-broken", GOOD, broken)).json.error?.code).toBe("invalid_credential");
		const unattested = await attempt("att-broken-none", GOOD, broken, noneKey);
		expect(unattested.status, unattested.body).toBe(200);
		expect(unattested.json.factor.webauthn.attestation).toBe("none");
	});

	it("V-15: certificate checks open no connection: CRL, OCSP and issuer URLs in the chain and in the MDS signer are never fetched", async () => {
		const from = connections.length;
		const leaf = await makeAttestationCert("Vendor", GOOD, pki.vendorIntermediate, `http://${UNRESOLVABLE_CRL_HOST}/leaf.crl`);
		const res = await attempt("att-offline", GOOD, full(leaf, pki.vendorIntermediate));
		expect(res.status, res.body).toBe(200);
		const during = connections.slice(from).filter((c) => !c.endsWith(":5432")); // the PostgreSQL pool may open one
		expect(during).toEqual([]);
		expect(crlHits).toEqual([]);
		expect(connections.filter((c) => c.includes(String(crlPort)) || c.includes(UNRESOLVABLE_CRL_HOST))).toEqual([]);
	});
});

describe("attestation \"direct\" without trust anchors", () => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp();
	});
	afterAll(() => t.close());

	it("V-15: is refused when set, and a tenant that has it from before cannot enroll a key", async () => {
		const res = await t.call("PATCH", "/v1/tenant", { webauthn: { ...WEBAUTHN, attestation: "direct" } });
		expect(res.status).toBe(409);
		expect(res.json.error.code).toBe("attestation_not_configured");
		expect((await t.call("GET", "/v1/tenant")).json.settings.webauthn.attestation).toBe("none");
		// Stored under an earlier configuration that had anchors.
		const settings = (await t.call("GET", "/v1/tenant")).json.settings;
		await t.app.store.tenants.updateSettings(t.tenantId, JSON.stringify({ ...settings, webauthn: { ...WEBAUTHN, attestation: "direct" } }));
		const enrolled = await t.call("POST", "/v1/users/u/factors", { type: "webauthn" });
		expect(enrolled.json.error?.code).toBe("attestation_not_configured");
		// Other settings can still be changed.
		expect((await t.call("PATCH", "/v1/tenant", { issuer: "Acme" })).status).toBe(200);
	});
});
