import { type KeyObject, sign, verify } from "node:crypto";

/**
 * Compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037), the one algorithm
 * Twofold signs with. Parsing is strict: three base64url parts, a JSON object
 * header and payload; the caller decides which header values it accepts
 * (R-AS-2: the algorithm comes from our allow-list, never from the token).
 */
export const JWS_ALGORITHM = "EdDSA";

export interface JWSHeader {
	alg: string;
	kid?: string;
	typ?: string;
	[name: string]: unknown;
}

export interface ParsedJWS {
	header: JWSHeader;
	payload: Record<string, unknown>;
	signingInput: string;
	signature: Uint8Array;
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/**
 * Signs on libuv's thread pool (the callback form of crypto.sign): an Ed25519 signature costs
 * about 50 µs of CPU, which would otherwise sit on the event loop of every successful verify.
 */
export function signJWS(header: JWSHeader, payload: Record<string, unknown>, privateKey: KeyObject): Promise<string> {
	const signingInput = `${encode(header)}.${encode(payload)}`;
	return new Promise((resolve, reject) => {
		// Ed25519 hashes internally: the digest argument is null (RFC 8032).
		sign(null, Buffer.from(signingInput), privateKey, (error, signature) => (error ? reject(error) : resolve(`${signingInput}.${signature.toString("base64url")}`)));
	});
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeObject(part: string): Record<string, unknown> | null {
	if (!BASE64URL.test(part)) return null;
	try {
		const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
		return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
	} catch {
		return null;
	}
}

/** The parts of a compact JWS, or null when it is not one. Nothing is trusted yet. */
export function parseJWS(token: unknown): ParsedJWS | null {
	if (typeof token !== "string" || token.length > 8192) return null;
	const parts = token.split(".");
	if (parts.length !== 3) return null;
	const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
	const header = decodeObject(headerPart);
	const payload = decodeObject(payloadPart);
	if (header === null || payload === null || typeof header.alg !== "string" || !BASE64URL.test(signaturePart)) return null;
	return { header: header as JWSHeader, payload, signingInput: `${headerPart}.${payloadPart}`, signature: Buffer.from(signaturePart, "base64url") };
}

/** True when the signature is an Ed25519 signature by publicKey; the header's alg must already have been checked. */
export function verifyJWS(parsed: ParsedJWS, publicKey: KeyObject): boolean {
	if (parsed.header.alg !== JWS_ALGORITHM || publicKey.asymmetricKeyType !== "ed25519") return false;
	return verify(null, Buffer.from(parsed.signingInput), publicKey, parsed.signature);
}
