import { type Static, type TObject, type TUnion, Type } from "@sinclair/typebox";
import { PRINTABLE_ASCII } from "./patterns.js";

/** One problem of an invalid_request (contract/validation-detail.ts). */
export const ValidationDetailSchema = Type.Object(
	{
		in: Type.Union([Type.Literal("body"), Type.Literal("query"), Type.Literal("path"), Type.Literal("header")]),
		pointer: Type.String({ description: "JSON pointer (RFC 6901) to the field within `in`; \"\" is the whole of it." }),
		message: Type.String({ description: "What the field must be; never the value sent." }),
	},
	{ $id: "ValidationDetail" },
);

export const ErrorBody = Type.Object(
	{
		error: Type.Object({
			code: Type.String({ description: "A code from docs/errors.md; match on it, never on the message." }),
			message: Type.String(),
			details: Type.Optional(Type.Array(ValidationDetailSchema, { description: "invalid_request only: one entry per problem." })),
		}),
	},
	{ $id: "Error", description: "Every error: a code from docs/errors.md and a human-readable message." },
);

/**
 * A body that is one of several objects told apart by `type`: JSON Schema
 * oneOf with an OpenAPI discriminator. Ajv (option discriminator) then checks
 * only the variant the `type` names, so a wrong or missing `type` is one
 * error that lists the allowed values, and a bad field of a known variant is
 * reported against that variant alone (issue 13), not once per variant.
 */
export function TaggedUnion<T extends TObject[]>(variants: [...T], options: { description?: string } = {}) {
	return Type.Unsafe<Static<TUnion<T>>>({ type: "object", oneOf: variants, discriminator: { propertyName: "type" }, ...options });
}

/** The application's opaque id: 1-128 printable ASCII characters. Twofold needs nothing else about a user. */
export const UserId = Type.String({ minLength: 1, maxLength: 128, pattern: PRINTABLE_ASCII.pattern });

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
