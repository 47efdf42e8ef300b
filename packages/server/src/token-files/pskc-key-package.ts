import type { ImportProblem } from "./import-record.js";
import { decodeBase64 } from "./pskc-crypto.js";
import { PSKCDecryption } from "./pskc-encryption.js";
import { attribute, childElement, findPath, type XmlElement } from "./pskc-xml.js";

/**
 * One <KeyPackage> of a PSKC file (RFC 6030 §4), read as the file says it, before any Twofold rule: what the
 * reader's tests compare with the RFC's examples and with what python3-pskc wrote. pskc-reader.ts turns it into an
 * ImportRecord or a problem.
 */
export interface PSKCKey {
	/** 1-based position of the package in the file. */
	index: number;
	/** "KeyPackage 3 (Key Id 12345678)": for reports; never a secret. */
	location: string;
	/** Key/@Id (RFC 6030 §4.3.2: unique within the container). */
	keyId?: string;
	/** DeviceInfo/SerialNo (§4.3.1). */
	serialNo?: string;
	/** Key/UserId (§4.3.2), the user of this key. */
	keyUserId?: string;
	/** DeviceInfo/UserId (§4.3.1), the user of the device. */
	deviceUserId?: string;
	/** Key/@Algorithm, a URN such as urn:ietf:params:xml:ns:keyprov:pskc:hotp. */
	algorithm?: string;
	issuer?: string;
	friendlyName?: string;
	/** AlgorithmParameters/ResponseFormat (§4.3.4). */
	responseLength?: number;
	responseEncoding?: string;
	checkDigits?: boolean;
	/** AlgorithmParameters/Suite: its text (python-pskc, privacyIDEA's importer) or its hashalgo attribute (privacyIDEA's exporter). */
	suite?: string;
	/** Data/Secret, decrypted when it was encrypted; the consumer zeroes it. */
	secret?: Uint8Array;
	/** Data/Counter, Data/Time, Data/TimeInterval, Data/TimeDrift (§4.3.4, §4.3.5). */
	counter?: number;
	time?: number;
	timeInterval?: number;
	timeDrift?: number;
}

export type PSKCKeyItem = { kind: "key"; key: PSKCKey } | { kind: "problem"; problem: ImportProblem };

function textOf(element: XmlElement | undefined): string | undefined {
	const text = element?.text.trim();
	return text === undefined || text === "" ? undefined : text;
}

export function packageLocation(index: number, keyId: string | undefined, serialNo: string | undefined): string {
	const label = keyId !== undefined ? ` (Key Id ${keyId})` : serialNo !== undefined ? ` (serial ${serialNo})` : "";
	return `KeyPackage ${index}${label}`;
}

/**
 * Reads one package. Record faults (a value that is not base64 or not an integer) are a problem for this package;
 * key faults (a wrong passphrase or key, a bad MAC) throw TokenFileError from PSKCDecryption and end the file.
 * Synchronous: the caller has prepared the decryption when the package has an encrypted value.
 */
/** The first EncryptedValue anywhere in a package, if any: the reader prepares the file's keys on it first. */
export function firstEncryptedValue(element: XmlElement): XmlElement | undefined {
	for (const child of element.children) {
		if (child.name === "encryptedvalue") return child;
		const found = firstEncryptedValue(child);
		if (found !== undefined) return found;
	}
	return undefined;
}

export function locationOf(element: XmlElement, index: number): string {
	const keyId = attribute(childElement(element, "key"), "id")?.trim() || undefined;
	return packageLocation(index, keyId, textOf(findPath(element, "deviceinfo", "serialno")));
}

export function readKeyPackage(element: XmlElement, index: number, decryption: PSKCDecryption): PSKCKeyItem {
	const device = childElement(element, "deviceinfo");
	const key = childElement(element, "key");
	const keyId = attribute(key, "id")?.trim() || undefined;
	const serialNo = textOf(childElement(device, "serialno"));
	const location = packageLocation(index, keyId, serialNo);
	const keyUserId = textOf(childElement(key, "userid"));
	const deviceUserId = textOf(childElement(device, "userid"));
	const userId = keyUserId ?? deviceUserId;
	const problem = (code: string, reason: string): PSKCKeyItem => ({
		kind: "problem",
		problem: { location, code, reason, ...(userId !== undefined ? { userId } : {}) },
	});
	if (key === undefined) return problem("missing_key", "the KeyPackage has no Key element");

	const parameters = childElement(key, "algorithmparameters");
	const responseFormat = childElement(parameters, "responseformat");
	const suiteElement = childElement(parameters, "suite");
	const lengthText = attribute(responseFormat, "length")?.trim();
	const responseLength = lengthText === undefined ? undefined : /^[0-9]{1,3}$/.test(lengthText) ? Number(lengthText) : Number.NaN;
	if (Number.isNaN(responseLength)) return problem("invalid_digits", "ResponseFormat's Length is not a whole number");
	const checkDigitsText = attribute(responseFormat, "checkdigits")?.trim().toLowerCase();

	const result: PSKCKey = { index, location };
	if (keyId !== undefined) result.keyId = keyId;
	if (serialNo !== undefined) result.serialNo = serialNo;
	if (keyUserId !== undefined) result.keyUserId = keyUserId;
	if (deviceUserId !== undefined) result.deviceUserId = deviceUserId;
	const algorithm = attribute(key, "algorithm")?.trim();
	if (algorithm !== undefined && algorithm !== "") result.algorithm = algorithm;
	const issuer = textOf(childElement(key, "issuer"));
	if (issuer !== undefined) result.issuer = issuer;
	const friendlyName = textOf(childElement(key, "friendlyname"));
	if (friendlyName !== undefined) result.friendlyName = friendlyName;
	if (responseLength !== undefined) result.responseLength = responseLength;
	const encoding = attribute(responseFormat, "encoding")?.trim();
	if (encoding !== undefined) result.responseEncoding = encoding;
	if (checkDigitsText !== undefined) result.checkDigits = checkDigitsText === "true" || checkDigitsText === "1";
	const suite = textOf(suiteElement) ?? attribute(suiteElement, "hashalgo")?.trim();
	if (suite !== undefined && suite !== "") result.suite = suite;

	const data = childElement(key, "data");
	const secretElement = childElement(data, "secret");
	if (secretElement !== undefined) {
		const secret = readBinary(secretElement, location, decryption);
		if (secret === null) return problem("invalid_secret", "Data/Secret is not valid base64");
		if (secret !== undefined) result.secret = secret;
	}
	for (const [name, field] of [
		["counter", "counter"],
		["time", "time"],
		["timeinterval", "timeInterval"],
		["timedrift", "timeDrift"],
	] as const) {
		const fieldElement = childElement(data, name);
		if (fieldElement === undefined) continue;
		let value: number | null | undefined;
		try {
			value = readInteger(fieldElement, location, decryption, field === "timeDrift");
		} catch (error) {
			// A file fault on an encrypted counter ends the file: the secret already opened is not handed on, so zero it.
			result.secret?.fill(0);
			throw error;
		}
		if (value === null) {
			result.secret?.fill(0);
			return problem(`invalid_${name === "timeinterval" ? "period" : name}`, `Data/${elementName(name)} is not a whole number`);
		}
		if (value !== undefined) result[field] = value;
	}
	return { kind: "key", key: result };
}

function elementName(name: string): string {
	return { counter: "Counter", time: "Time", timeinterval: "TimeInterval", timedrift: "TimeDrift" }[name] ?? name;
}

/** A binary data element (RFC 6030 §4.3.4 PlainValue, base64, or EncryptedValue): undefined when empty, null when not base64. */
function readBinary(element: XmlElement, location: string, decryption: PSKCDecryption): Buffer | null | undefined {
	if (PSKCDecryption.isEncrypted(element)) return decryption.open(element, location);
	const plain = childElement(element, "plainvalue");
	if (plain === undefined) return undefined;
	return decodeBase64(plain.text);
}

/**
 * An integer data element: a PlainValue in decimal, or an EncryptedValue holding either ASCII digits or a big-endian
 * binary integer (python-pskc writes the latter; it reads both, and so does this).
 */
function readInteger(element: XmlElement, location: string, decryption: PSKCDecryption, signed: boolean): number | null | undefined {
	if (PSKCDecryption.isEncrypted(element)) {
		const bytes = decryption.open(element, location);
		try {
			const ascii = bytes.toString("latin1");
			if (/^[0-9]{1,15}$/.test(ascii)) return Number(ascii);
			if (bytes.byteLength === 0 || bytes.byteLength > 6) return null;
			return bytes.readUIntBE(0, bytes.byteLength);
		} finally {
			bytes.fill(0);
		}
	}
	const text = textOf(findPath(element, "plainvalue"));
	if (text === undefined) return undefined;
	// privacyIDEA writes a token's missing timeStep as Python's "None" (export_pskc formats tokeninfo as it is):
	// that is an absent value (the default applies), not a malformed one.
	if (text === "None") return undefined;
	if (!signed) return /^\+?[0-9]{1,15}$/.test(text) ? Number(text) : null;
	// TimeDrift is only reported, never used (docs/pskc.md); privacyIDEA writes its timeShift, seconds as a float
	// ("-12.0"), there. A drift that is not a number is left out rather than refusing the token for it.
	const drift = /^[+-]?[0-9]{1,15}(?:\.[0-9]{1,15})?$/.test(text) ? Number(text) : undefined;
	return drift;
}
