/**
 * PKCE (RFC 7636) with S256, the only method Twofold accepts, and the random values of an authorization request.
 * WebCrypto, so it runs the same in Node and in browsers.
 */

function base64url(bytes: Uint8Array): string {
	let binary = "";
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * 32 random bytes, base64url: 43 characters of the unreserved set, 256 bits. A code verifier this way is what
 * RFC 7636 §4.1 recommends; the same serves as state and nonce, which must be unguessable (RFC 6749 §10.12).
 */
export function randomToken(): string {
	return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The code_challenge for a verifier: BASE64URL(SHA256(ASCII(code_verifier))), RFC 7636 §4.2. */
export async function pkceChallenge(codeVerifier: string): Promise<string> {
	// §4.1: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~]; anything else would be refused by the provider, later and less clearly.
	if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(codeVerifier)) throw new TypeError("a PKCE code verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)");
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(codeVerifier));
	return base64url(new Uint8Array(digest));
}
