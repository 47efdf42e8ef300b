/**
 * The step-up assertion contract (R-AS-1..R-AS-4): what Twofold signs and what every verifier of its assertions
 * checks, declared once for the server and the SDK (issue 14). docs/assertions.md describes the same token.
 *
 * How one file reaches two packages: this is the only declaration in the repository. Each package has a symbolic
 * link to it inside its own source tree, packages/sdk/src/assertion-contract.ts and
 * packages/server/src/core/assertion-contract.ts, so each package's tsc compiles it within its rootDir (src) into
 * its own dist like any other source file. The SDK tarball therefore needs no third package, the SDK never
 * imports the server, and the server does not depend on the SDK for it. Hence the rules for this file: no imports
 * (it must compile unchanged in either package, and in the server's pure core/), declarations and the one claim check
 * both sides run, nothing that belongs to one side (how the server builds claims, which acr an SDK route accepts by
 * default). A checkout must keep symbolic links (git's default on Linux and macOS; core.symlinks on Windows).
 */

/** The JWS typ (RFC 8725 §3.11 explicit typing): a verifier refuses any other JWT posing as an assertion. */
export const ASSERTION_TYP = "twofold-assertion+jwt";

/** The algorithm Twofold signs with: EdDSA over Ed25519 (RFC 8037). Its JWKS lists only keys of this algorithm. */
export const SIGNING_ALGORITHM = "EdDSA";

/**
 * The algorithms an SDK verifier accepts (R-AS-2): an allow-list, never the token's word, so `alg: none` and HS256
 * signed with a public key never verify. ES256 is accepted beside the signing algorithm; Twofold itself reads only
 * SIGNING_ALGORITHM.
 */
export const ASSERTION_ALGORITHMS: readonly string[] = [SIGNING_ALGORITHM, "ES256"];

/** Twofold's acr levels, strongest first (docs/assertions.md). Only WebAuthn is phishing-resistant (R-AS-4). */
export const ACR = {
	phishingResistant: "urn:twofold:acr:phr",
	otp: "urn:twofold:acr:otp",
	recoveryCode: "urn:twofold:acr:rcode",
	/** An email code: low assurance, never a second factor (NIST 800-63B, R-EM-1). */
	email: "urn:twofold:acr:email",
} as const;

/** Tenants choose 30 s to 15 min (default 5 min, R-AS-3); a retired signing key stays published this long. */
export const MAX_ASSERTION_TTL_SECONDS = 900;

/**
 * The claims every assertion carries, with their JSON type: a verifier refuses an assertion missing one or holding
 * another type ("array" is an array of strings). AssertionClaimSet below is derived from it, so the type and the
 * runtime check cannot drift apart.
 */
export const REQUIRED_CLAIMS = {
	iss: "string",
	sub: "string",
	aud: "string",
	/** The tenant, so Twofold (redeem, factor-change proofs) and verifiers using named audiences can tell whose it is. */
	tid: "string",
	iat: "number",
	exp: "number",
	auth_time: "number",
	jti: "string",
	amr: "array",
	acr: "string",
} as const;

interface ClaimTypes {
	string: string;
	number: number;
	array: string[];
}

/** An assertion's claims: the required ones, the factor verified (absent for a recovery code) and the action approved. */
export type AssertionClaimSet = { -readonly [name in keyof typeof REQUIRED_CLAIMS]: ClaimTypes[(typeof REQUIRED_CLAIMS)[name]] } & {
	factor_id?: string;
	action_hash?: string;
};

/** The required claims missing or of another type in a decoded claims set; empty when it has all of them. */
export function malformedClaims(claims: Readonly<Record<string, unknown>>): string[] {
	return Object.entries(REQUIRED_CLAIMS)
		.filter(([name, type]) => {
			const value = claims[name];
			return type === "array" ? !Array.isArray(value) || value.some((item) => typeof item !== "string") : typeof value !== type;
		})
		.map(([name]) => name);
}
