import { TokenFileError, type ReadOptions } from "./import-record.js";
import {
	cbcCipher,
	decodeBase64,
	decryptCBC,
	derivePBKDF2,
	hmacHash,
	MAX_PBKDF2_ITERATIONS,
	macMatches,
	type CBCCipher,
	type HMACHash,
	type PBKDF2Parameters,
} from "./pskc-crypto.js";
import { attribute, childElement, findPath, type XmlElement } from "./pskc-xml.js";

/**
 * A PSKC file's keys (RFC 6030 §6): the encryption key, given (pre-shared, §6.1) or derived from a passphrase
 * (PBKDF2, §6.2), and the MAC key, which the file carries encrypted under the encryption key (<MACMethod><MACKey>).
 *
 * Every encrypted value is authenticated before it is decrypted: its ValueMAC is checked first, in constant time,
 * and a value without one is refused. A wrong passphrase, a wrong key and an altered value all end the file with the
 * same TokenFileError and the same words (no oracle, and nothing to tell an attacker which of the three it was): a
 * wrong key is the operator's mistake about the whole file, not one record's fault.
 *
 * Limits (documented in docs/pskc.md): the MAC covers each encrypted value, not the XML around it (RFC 6030 §6.1.1),
 * so the user ids, serials and counters of a file are as trustworthy as the way the file travelled; XML signatures
 * (§7) are not checked; asymmetric encryption (§6.3), key wrap and ciphers other than AES-CBC are refused.
 */

const WRONG_KEY_REASON = "an encrypted value could not be authenticated: the passphrase or key is wrong, or the file was altered";

export function wrongKeyError(location: string): TokenFileError {
	return new TokenFileError("wrong_key_or_mac", WRONG_KEY_REASON, location);
}

interface Keys {
	encryptionKey: Buffer;
	macHash: HMACHash;
	macKey: Buffer;
}

export class PSKCDecryption {
	private encryptionKeyElement: XmlElement | undefined;
	private macMethod: XmlElement | undefined;
	private keys: Keys | undefined;
	private pending: Promise<Keys> | undefined;

	constructor(private readonly options: ReadOptions) {}

	/** Header children of <KeyContainer>, in file order; they come before the first <KeyPackage> (RFC 6030 §4). */
	addHeader(element: XmlElement): void {
		if (element.name === "encryptionkey") this.encryptionKeyElement = element;
		if (element.name === "macmethod") this.macMethod = element;
	}

	/** True when the element (a Secret, a Counter…) carries an encrypted value rather than a plain one. */
	static isEncrypted(element: XmlElement): boolean {
		return childElement(element, "encryptedvalue") !== undefined;
	}

	/** True once the keys are known; until then, `prepare` must run (it may derive a key: asynchronous). */
	get isReady(): boolean {
		return this.keys !== undefined;
	}

	/**
	 * Sets the keys up, once, for the first package that has an encrypted value: checks that value's algorithm first
	 * (an RSA-encrypted file, RFC 6030 §6.3, is refused by name, not as "no MAC"), then derives or takes the key and
	 * decrypts the MAC key.
	 */
	async prepare(firstEncrypted: XmlElement, location: string): Promise<void> {
		this.cipherOf(firstEncrypted, location);
		if (this.keys !== undefined) return;
		this.pending ??= this.setUp(location).then((keys) => (this.keys = keys));
		await this.pending;
	}

	/**
	 * The plaintext of a data element's EncryptedValue (a Secret, a Counter…), after its ValueMAC was checked.
	 * Synchronous once `prepare` has run (one PBKDF2 per file, then an HMAC and an AES per value). The caller zeroes
	 * the result once used.
	 */
	open(data: XmlElement, location: string): Buffer {
		const encrypted = childElement(data, "encryptedvalue")!;
		const cipher = this.cipherOf(encrypted, location);
		const keys = this.keys;
		if (keys === undefined) throw new Error("PSKCDecryption.open before prepare");
		const cipherText = findPath(encrypted, "cipherdata", "ciphervalue");
		if (cipherText === undefined) throw new TokenFileError("pskc_invalid", "an EncryptedValue has no CipherData/CipherValue", location);
		const macText = childElement(data, "valuemac");
		if (macText === undefined) {
			throw new TokenFileError("mac_missing", "an encrypted value has no ValueMAC: it cannot be authenticated before it is decrypted (RFC 6030 §6.1.1)", location);
		}
		const cipherValue = decodeBase64(cipherText.text);
		const mac = decodeBase64(macText.text);
		if (cipherValue === null || mac === null) throw wrongKeyError(location);
		if (!macMatches(keys.macHash, keys.macKey, cipherValue, mac)) throw wrongKeyError(location);
		const plain = decryptCBC(cipher, keys.encryptionKey, cipherValue);
		// The MAC held, so the writer encrypted this: a bad padding is the writer's fault, told apart without risk.
		if (plain === null) throw new TokenFileError("pskc_invalid", "an authenticated value does not decrypt to whole padded blocks", location);
		return plain;
	}

	/** Zeroes the keys; the reader calls it when the file ends, whichever way. */
	dispose(): void {
		this.keys?.encryptionKey.fill(0);
		this.keys?.macKey.fill(0);
		this.keys = undefined;
	}

	cipherOf(encrypted: XmlElement, location: string): CBCCipher {
		const method = childElement(encrypted, "encryptionmethod");
		const cipher = cbcCipher(attribute(method, "algorithm"));
		if (cipher === undefined) {
			throw new TokenFileError(
				"unsupported_encryption",
				"the file is encrypted with an algorithm this reader does not support (AES-CBC only: not asymmetric keys, key wrap, Camellia or 3DES)",
				location,
			);
		}
		return cipher;
	}

	private async setUp(location: string): Promise<Keys> {
		const macMethod = this.macMethod;
		if (macMethod === undefined) {
			throw new TokenFileError("mac_missing", "the file has encrypted values but no MACMethod: they cannot be authenticated (RFC 6030 §6.1.1)", location);
		}
		const macHash = hmacHash(attribute(macMethod, "algorithm"));
		if (macHash === undefined) throw new TokenFileError("unsupported_mac", "the MACMethod is not an HMAC this reader supports (HMAC-SHA1, -SHA224, -SHA256, -SHA384, -SHA512)", location);
		const macKeyElement = childElement(macMethod, "mackey");
		if (macKeyElement === undefined) throw new TokenFileError("mac_missing", "the MACMethod has no MACKey (RFC 6030 §6.1.1)", location);
		const macCipher = this.cipherOf(macKeyElement, location);
		const encryptionKey = await this.encryptionKey(macCipher, location);
		const macCipherText = decodeBase64(findPath(macKeyElement, "cipherdata", "ciphervalue")?.text ?? "");
		// The MAC key cannot be authenticated by itself (nothing in the file MACs it): a wrong encryption key shows as
		// a bad padding here or as a MAC mismatch on the first value, and both give the same error.
		const macKey = macCipherText === null ? null : decryptCBC(macCipher, encryptionKey, macCipherText);
		if (macKey === null || macKey.byteLength === 0) {
			encryptionKey.fill(0);
			throw wrongKeyError(location);
		}
		return { encryptionKey, macHash, macKey };
	}

	private async encryptionKey(cipher: CBCCipher, location: string): Promise<Buffer> {
		const derived = findPath(this.encryptionKeyElement, "derivedkey");
		if (derived !== undefined) {
			if (this.options.passphrase === undefined || this.options.passphrase === "") {
				throw new TokenFileError("passphrase_required", "the file is encrypted with a passphrase (PBKDF2, RFC 6030 §6.2): give it", location);
			}
			const parameters = pbkdf2Parameters(derived, cipher, location);
			return derivePBKDF2(this.options.passphrase, parameters);
		}
		const given = this.options.preSharedKey;
		if (given === undefined) {
			throw new TokenFileError("key_required", "the file is encrypted with a pre-shared key (RFC 6030 §6.1): give the key", location);
		}
		if (given.byteLength !== cipher.keyLength) {
			throw new TokenFileError("key_required", `the file is encrypted with ${cipher.name}: the pre-shared key must be ${cipher.keyLength} bytes`, location);
		}
		return Buffer.from(given);
	}
}

/** The PBKDF2 parameters of <DerivedKey><KeyDerivationMethod Algorithm="…#pbkdf2"><PBKDF2-params> (RFC 6030 §6.2). */
function pbkdf2Parameters(derived: XmlElement, cipher: CBCCipher, location: string): PBKDF2Parameters {
	const method = childElement(derived, "keyderivationmethod");
	const algorithm = attribute(method, "algorithm")?.trim().toLowerCase() ?? "";
	if (!algorithm.endsWith("#pbkdf2")) throw new TokenFileError("unsupported_encryption", "the key derivation is not PBKDF2 (RFC 6030 §6.2)", location);
	const params = childElement(method, "pbkdf2-params");
	const salt = decodeBase64(findPath(params, "salt", "specified")?.text ?? "");
	const iterations = parseCount(findPath(params, "iterationcount")?.text);
	const keyLengthText = findPath(params, "keylength")?.text;
	const keyLength = keyLengthText === undefined ? cipher.keyLength : parseCount(keyLengthText);
	const prf = findPath(params, "prf");
	// PKCS #5 v2.0 names the PRF in an Algorithm attribute; python-pskc writes it as the element's text. Empty: HMAC-SHA1.
	const prfName = attribute(prf, "algorithm") ?? prf?.text.trim() ?? "";
	const hash = prfName === "" ? "sha1" : hmacHash(prfName);
	if (salt === null || salt.byteLength === 0) throw new TokenFileError("pskc_invalid", "the PBKDF2 parameters have no Salt/Specified value", location);
	if (iterations === undefined || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
		throw new TokenFileError("pskc_invalid", `the PBKDF2 IterationCount is missing or not between 1 and ${MAX_PBKDF2_ITERATIONS}`, location);
	}
	if (keyLength !== cipher.keyLength) throw new TokenFileError("pskc_invalid", `the PBKDF2 KeyLength does not fit ${cipher.name} (${cipher.keyLength} bytes)`, location);
	if (hash === undefined) throw new TokenFileError("unsupported_encryption", "the PBKDF2 PRF is not an HMAC this reader supports", location);
	return { salt, iterations, keyLength, hash };
}

function parseCount(text: string | undefined): number | undefined {
	const trimmed = text?.trim();
	if (trimmed === undefined || !/^[0-9]{1,15}$/.test(trimmed)) return undefined;
	return Number(trimmed);
}
