/**
 * Why a WebAuthn ceremony check refused a response (issue 14). The client is told one thing, whatever the reason
 * (a refusal is a counted attempt, V-15); the reason is for the operator's log. It never carries the credential, the
 * challenge or the response (R-ST-4): `detail` is @simplewebauthn/server's message with every quoted value taken out,
 * and only for reasons whose messages name checks; none for a challenge mismatch (its message quotes both
 * challenges), a type mismatch or a malformed response (their messages can carry the response's own text unquoted:
 * "Unexpected credential type …", the decoder's error).
 */
export type CeremonyRefusalReason =
	| "malformed_response"
	| "cross_origin"
	| "user_handle_mismatch"
	| "type_mismatch"
	| "challenge_mismatch"
	| "origin_mismatch"
	| "rp_id_mismatch"
	| "user_presence_missing"
	| "user_verification_missing"
	| "unsupported_algorithm"
	| "bad_signature"
	| "attestation_untrusted"
	| "synced_not_allowed";

export interface CeremonyRefusal {
	ok: false;
	reason: CeremonyRefusalReason;
	/** The library's message without its values, when it adds something to the reason. */
	detail?: string;
}

export function refusal(reason: CeremonyRefusalReason, detail?: string): CeremonyRefusal {
	return detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
}

// @simplewebauthn/server 14 throws plain Errors; their messages are the only thing that tells the checks apart.
const LIBRARY_REASONS: [RegExp, CeremonyRefusalReason][] = [
	[/challenge/i, "challenge_mismatch"],
	[/origin/i, "origin_mismatch"],
	[/RP ID hash/i, "rp_id_mismatch"],
	[/user verification/i, "user_verification_missing"],
	[/user (presence|not present)/i, "user_presence_missing"],
	[/response type|credential type/i, "type_mismatch"],
	[/public key alg|PQC|not supported/i, "unsupported_algorithm"],
];

const DETAIL_MAX = 160;
/** Reasons whose library messages may quote, or carry unquoted, what the client sent: logged without a detail. */
const NO_DETAIL: ReadonlySet<CeremonyRefusalReason> = new Set(["challenge_mismatch", "type_mismatch", "malformed_response"]);

/** The refusal for an error thrown by the library's ceremony check. */
export function refusalFromError(error: unknown): CeremonyRefusal {
	const message = error instanceof Error ? error.message : "";
	const reason = LIBRARY_REASONS.find(([pattern]) => pattern.test(message))?.[1] ?? "malformed_response";
	if (NO_DETAIL.has(reason) || message === "") return refusal(reason);
	// Values in the library's messages are quoted ("…"); without them a message names checks, not data.
	return refusal(reason, message.replace(/"[^"]*"?/g, "…").slice(0, DETAIL_MAX));
}
