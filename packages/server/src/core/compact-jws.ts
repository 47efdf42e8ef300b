import { type KeyObject, sign } from "node:crypto";

/**
 * The compact JWS serialization (RFC 7515 §7.1) of an EdDSA signature (RFC 8037) over a JSON header and payload,
 * signed on libuv's thread pool (the callback form of crypto.sign), so the Ed25519 work of every successful verify
 * stays off the event loop. Signing only: every token Twofold reads, its own included, is parsed and checked by
 * jose (services/assertions.ts). Not jose's CompactSign here, by measurement (issue 14): jose re-encodes the header
 * and base64url-encodes through a slow fallback on Node 20, which cost 8% of verify throughput (bench, median of
 * three interleaved rounds: 5,037 against 5,494 req/s; this function: 5,449). Ed25519 signatures are deterministic
 * (RFC 8032), so core/compact-jws.test.ts checks that this produces exactly jose's token for the same input.
 */
export function signCompactJWS(header: Readonly<Record<string, unknown>>, payload: Readonly<Record<string, unknown>>, privateKey: KeyObject): Promise<string> {
	const signingInput = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
	return new Promise((resolve, reject) => {
		// Ed25519 hashes internally: the digest argument is null (RFC 8032).
		sign(null, Buffer.from(signingInput), privateKey, (error, signature) => (error ? reject(error) : resolve(`${signingInput}.${signature.toString("base64url")}`)));
	});
}
