import { Type } from "@sinclair/typebox";

export const ErrorBody = Type.Object(
	{ error: Type.Object({ code: Type.String(), message: Type.String() }) },
	{ $id: "Error", description: "Every error: a code from docs/errors.md and a human-readable message." },
);

/** The application's opaque id: 1-128 printable ASCII characters. Twofold needs nothing else about a user. */
export const UserId = Type.String({ minLength: 1, maxLength: 128, pattern: "^[\\x20-\\x7E]+$" });

export const UserParams = Type.Object({ user_id: UserId });
export const FactorParams = Type.Object({ user_id: UserId, factor_id: Type.String({ maxLength: 64 }) });

/**
 * A code as the user typed it. Declared loosely on purpose: a number, an
 * array or a padded string must reach the verifier and count as a failed
 * attempt (R-OTP-11, V-2), not bounce off schema validation uncounted.
 */
export const Code = Type.Unknown({
	description: "A TOTP code (exactly 6-8 ASCII digits, as a JSON string) or a recovery code (xxxx-xxxx-xxxx-xxxx). Anything else is a failed attempt.",
});

/** A WebAuthn response (RegistrationResponseJSON or AuthenticationResponseJSON); loose for the same reason as Code. */
export const Credential = Type.Unknown({ description: "The JSON the browser helper returns from the WebAuthn ceremony." });

/** The proof fields, on every route that needs one: a code, or a WebAuthn assertion answering a challenge. */
export const ProofFields = {
	code: Type.Optional(Code),
	challenge_id: Type.Optional(Type.Unknown({ description: "With credential: the id from POST /v1/users/{user_id}/challenges." })),
	credential: Type.Optional(Credential),
};

/**
 * Factor changes (add a factor, remove one, regenerate recovery codes) also take a
 * fresh step-up assertion from an existing factor (R-LC-1, R-LC-4, R-RC-5).
 */
export const ChangeProofFields = {
	...ProofFields,
	assertion: Type.Optional(
		Type.String({ maxLength: 8192, description: "A step-up assertion from this user's verify, at most 5 minutes old; spent by the change." }),
	),
};

export const Reason = Type.String({ minLength: 1, maxLength: 500, description: "Admin keys only: why, for the audit log." });

export const Timestamp = Type.String({ format: "date-time" });
export const NullableTimestamp = Type.Union([Type.String({ format: "date-time" }), Type.Null()]);

export const errorResponses = {
	400: ErrorBody,
	401: ErrorBody,
	403: ErrorBody,
	404: ErrorBody,
	409: ErrorBody,
	410: ErrorBody,
	422: ErrorBody,
	423: ErrorBody,
	429: ErrorBody,
	500: ErrorBody,
	503: ErrorBody,
};
