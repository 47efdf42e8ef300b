import { createCipheriv, createHmac, pbkdf2 } from "node:crypto";
import { promisify } from "node:util";
import type { RandomReader } from "../core/random.js";
import type { ExportToken } from "./export-token.js";

/**
 * Twofold's PSKC export (RFC 6030, issue 17), always encrypted with a passphrase (§6.2):
 * - the key: PBKDF2 (PKCS #5 v2.0) with HMAC-SHA256 as PRF, 600,000 iterations (OWASP's 2023 figure for
 *   PBKDF2-HMAC-SHA256), a random 16-byte salt, 16 bytes out;
 * - each secret: AES-128-CBC with a random IV prepended to the ciphertext (§6.1, xmlenc#aes128-cbc), PKCS #7 padding;
 * - its MAC: HMAC-SHA256 over IV||ciphertext (§6.1.1, <ValueMAC>), keyed with a random 32-byte MAC key that the file
 *   carries encrypted under the same key (<MACMethod><MACKey>), so a reader checks integrity before decrypting.
 *
 * The PRF is named in the <PRF Algorithm="…"> attribute as the PKCS #5 XML schema has it: python-pskc reads only that
 * form (it writes the URI as the element's text and so reads its own HMAC-SHA256 files as HMAC-SHA1), and Twofold's
 * reader takes both. Written as strings, one KeyPackage at a time, so an export of any size streams.
 */

export const PSKC_EXPORT_PBKDF2_ITERATIONS = 600_000;

const PSKC_NS = "urn:ietf:params:xml:ns:keyprov:pskc";
const PBKDF2_URI = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2";
const PKCS5_NS = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#";
const HMAC_SHA256_URI = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256";
const AES128_CBC_URI = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
const ALGORITHM_URI = { totp: "urn:ietf:params:xml:ns:keyprov:pskc:totp", hotp: "urn:ietf:params:xml:ns:keyprov:pskc:hotp" } as const;

const SALT_BYTES = 16;
const AES_KEY_BYTES = 16;
const MAC_KEY_BYTES = 32;
const IV_BYTES = 16;

const derive = promisify(pbkdf2);

export class PSKCWriter {
	private constructor(
		private readonly random: RandomReader,
		private readonly salt: Uint8Array,
		private readonly iterations: number,
		private readonly encryptionKey: Buffer,
		private readonly macKey: Uint8Array,
	) {}

	/** Derives the key from the passphrase (one PBKDF2, on libuv's thread pool) and draws the MAC key. */
	static async create(passphrase: string, random: RandomReader, iterations = PSKC_EXPORT_PBKDF2_ITERATIONS): Promise<PSKCWriter> {
		if (passphrase.length === 0) throw new RangeError("the PSKC export needs a passphrase");
		// Fewer iterations would make a stolen export cheaper to guess; the reader side accepts what others wrote.
		if (!Number.isInteger(iterations) || iterations < PSKC_EXPORT_PBKDF2_ITERATIONS) throw new RangeError(`PBKDF2 needs at least ${PSKC_EXPORT_PBKDF2_ITERATIONS} iterations`);
		const salt = random(SALT_BYTES);
		// The passphrase's UTF-8 bytes as typed, not normalized: the reader (pskc-crypto.ts) and python3-pskc derive from
		// those, so a passphrase that is not in NFC (a decomposed "é", as some keyboards type it) still opens the file.
		const key = await derive(Buffer.from(passphrase, "utf8"), salt, iterations, AES_KEY_BYTES, "sha256");
		return new PSKCWriter(random, salt, iterations, key, random(MAC_KEY_BYTES));
	}

	/** The XML declaration, the container and its key information (EncryptionKey, MACMethod). */
	header(): string {
		return (
			`<?xml version="1.0" encoding="UTF-8"?>\n` +
			`<KeyContainer Version="1.0" xmlns="${PSKC_NS}" xmlns:pkcs5="${PKCS5_NS}" ` +
			`xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">\n` +
			` <EncryptionKey>\n` +
			`  <xenc11:DerivedKey>\n` +
			`   <xenc11:KeyDerivationMethod Algorithm="${PBKDF2_URI}">\n` +
			`    <pkcs5:PBKDF2-params>\n` +
			`     <Salt><Specified>${base64(this.salt)}</Specified></Salt>\n` +
			`     <IterationCount>${this.iterations}</IterationCount>\n` +
			`     <KeyLength>${AES_KEY_BYTES}</KeyLength>\n` +
			`     <PRF Algorithm="${HMAC_SHA256_URI}"/>\n` +
			`    </pkcs5:PBKDF2-params>\n` +
			`   </xenc11:KeyDerivationMethod>\n` +
			`   <xenc11:MasterKeyName>Twofold export passphrase</xenc11:MasterKeyName>\n` +
			`  </xenc11:DerivedKey>\n` +
			` </EncryptionKey>\n` +
			` <MACMethod Algorithm="${HMAC_SHA256_URI}">\n` +
			`  <MACKey>\n` +
			cipherElements("   ", this.encrypt(this.macKey)) +
			`  </MACKey>\n` +
			` </MACMethod>\n`
		);
	}

	/** One KeyPackage: the user, the algorithm and its parameters, the encrypted secret and its MAC, the counter or period. */
	keyPackage(token: ExportToken, issuer: string): string {
		const cipherValue = this.encrypt(token.secret);
		const mac = createHmac("sha256", this.macKey).update(cipherValue).digest();
		const data =
			`    <Secret>\n` +
			encryptedValue("     ", cipherValue) +
			`     <ValueMAC>${base64(mac)}</ValueMAC>\n` +
			`    </Secret>\n` +
			// No Counter for an HOTP token whose counter is unknown (needing resynchronization): the reader then knows it has none.
			(token.type === "hotp" && token.counter !== undefined ? `    <Counter><PlainValue>${requireCounter(token)}</PlainValue></Counter>\n` : "") +
			(token.type === "totp" ? `    <TimeInterval><PlainValue>${token.period ?? 30}</PlainValue></TimeInterval>\n` : "");
		const friendlyName = xmlText(token.label);
		return (
			` <KeyPackage>\n` +
			`  <Key Id="${escapeXml(token.factorId)}" Algorithm="${ALGORITHM_URI[token.type]}">\n` +
			`   <Issuer>${escapeXml(issuer)}</Issuer>\n` +
			`   <AlgorithmParameters>\n` +
			`    <Suite>HMAC-${token.algorithm}</Suite>\n` +
			`    <ResponseFormat Length="${token.digits}" Encoding="DECIMAL"/>\n` +
			`   </AlgorithmParameters>\n` +
			(friendlyName === undefined ? "" : `   <FriendlyName>${friendlyName}</FriendlyName>\n`) +
			`   <Data>\n${data}   </Data>\n` +
			`   <UserId>${escapeXml(token.userId)}</UserId>\n` +
			`  </Key>\n` +
			` </KeyPackage>\n`
		);
	}

	footer(): string {
		return "</KeyContainer>\n";
	}

	/** The keys are not needed once the last package is written. */
	close(): void {
		this.encryptionKey.fill(0);
		this.macKey.fill(0);
	}

	/** AES-128-CBC under the derived key with a fresh IV, returned as IV||ciphertext (RFC 6030 §6.1). */
	private encrypt(plaintext: Uint8Array): Buffer {
		const iv = this.random(IV_BYTES);
		const cipher = createCipheriv("aes-128-cbc", this.encryptionKey, iv);
		return Buffer.concat([iv, cipher.update(plaintext), cipher.final()]);
	}
}

/** <xenc:EncryptionMethod> and <xenc:CipherData> of an encrypted value, as <MACKey> holds them (RFC 6030 §6.1). */
function cipherElements(indent: string, cipherValue: Uint8Array): string {
	return (
		`${indent}<xenc:EncryptionMethod Algorithm="${AES128_CBC_URI}"/>\n` +
		`${indent}<xenc:CipherData><xenc:CipherValue>${base64(cipherValue)}</xenc:CipherValue></xenc:CipherData>\n`
	);
}

/** The same inside <EncryptedValue>, as a <Data> field holds them. */
function encryptedValue(indent: string, cipherValue: Uint8Array): string {
	return `${indent}<EncryptedValue>\n${cipherElements(`${indent} `, cipherValue)}${indent}</EncryptedValue>\n`;
}

function requireCounter(token: ExportToken): number {
	if (token.counter === undefined || !Number.isSafeInteger(token.counter) || token.counter < 0) throw new TypeError("an HOTP token needs its next counter");
	return token.counter;
}

function base64(bytes: Uint8Array): string {
	return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Characters XML 1.0 cannot hold at all (C0 controls but tab, LF, CR; lone surrogates; U+FFFE/U+FFFF). */
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** An optional text (a label): left out when XML cannot carry it, rather than writing a file no parser reads. */
function xmlText(text: string): string | undefined {
	return text === "" || NOT_XML.test(text) ? undefined : escapeXml(text);
}

function escapeXml(text: string): string {
	if (NOT_XML.test(text)) throw new TypeError("a value XML 1.0 cannot hold");
	return text.replace(/[&<>"']/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[char]!);
}
