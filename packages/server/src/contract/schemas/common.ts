import { type Static, type TObject, type TSchema, type TUnion, Type } from "@sinclair/typebox";
import { ERROR_CODES, type ErrorCode } from "../errors.js";
import { ERRORS_LINK } from "./docs-links.js";
import type { Examples } from "./examples.js";
import { PRINTABLE_ASCII } from "./patterns.js";

/** One problem of a 400 (contract/validation-detail.ts, docs/errors.md#validation-details). */
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
			code: Type.Unsafe<ErrorCode>({ type: "string", enum: Object.keys(ERROR_CODES), description: `Match on it, never on the message. Each code is explained in ${ERRORS_LINK}.` }),
			message: Type.String(),
			details: Type.Optional(Type.Array(Type.Ref(ValidationDetailSchema), { description: "400s only: one entry per problem, naming the field." })),
		}),
	},
	{ $id: "Error", description: `Every error: a code from the catalog, ${ERRORS_LINK}, and a human-readable message.` },
);

/**
 * A body that is one of several objects told apart by `type`: JSON Schema
 * oneOf with an OpenAPI discriminator. Ajv (option discriminator) then checks
 * only the variant the `type` names, so a wrong or missing `type` is one
 * error that lists the allowed values, and a bad field of a known variant is
 * reported against that variant alone (issue 13), not once per variant.
 */
export function TaggedUnion<T extends TObject[]>(variants: [...T], options: { description?: string; "x-examples"?: Examples } = {}) {
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
	description: "A TOTP or HOTP code (exactly 6-8 ASCII digits, as a JSON string) or a recovery code (xxxx-xxxx-xxxx-xxxx). Anything else is a failed attempt.",
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

/**
 * A response schema with the description the API reference shows for it
 * (without one, @fastify/swagger writes "Default Response"). A named schema
 * is referenced, so it appears once under components.
 */
export function described<T extends TSchema>(description: string, schema: T): T {
	return (typeof schema.$id === "string" ? Type.Ref(schema.$id, { description }) : { ...schema, description }) as unknown as T;
}

/** A success without a body. */
export const NoContent = (description: string) => ({ type: "null", description }) as const;

const errorResponse = (description: string) => described(`${description} See the code, and ${ERRORS_LINK}.`, ErrorBody);

export const errorResponses = {
	400: errorResponse("The request is malformed (invalid_request, with details naming each field) or a value is refused; nothing was attempted."),
	401: errorResponse("No valid API key (unauthorized)."),
	403: errorResponse("The key's scope, or the proof's strength, does not allow this."),
	404: errorResponse("No such user, factor, webhook, delivery or route."),
	409: errorResponse("The state does not allow this now (e.g. factor_not_pending, webauthn_not_configured)."),
	410: errorResponse("The pending factor expired (factor_expired)."),
	422: errorResponse("The proof was refused (invalid_code, invalid_credential, invalid_assertion); the attempt was counted."),
	423: errorResponse("The user is locked after too many failures (locked)."),
	429: errorResponse("Throttled or rate-limited; retry after the Retry-After seconds."),
	500: errorResponse("Internal error; nothing was accepted."),
	503: errorResponse("Not ready: database, clock, mail or rate-limit store (see the code)."),
};
