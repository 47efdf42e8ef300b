import { Type } from "@sinclair/typebox";
import { CHANGE_EXAMPLES, CONFIRM_EXAMPLES, ENROLL_EXAMPLES, RESYNC_EXAMPLES } from "./examples.js";
import { NO_COLON_OR_CONTROL } from "./patterns.js";
import { ChangeProofFields, Credential, NullableTimestamp, ProofFields, Reason, TaggedUnion, Timestamp } from "./common.js";

export const Factor = Type.Object({
	id: Type.String(),
	type: Type.Union([Type.Literal("totp"), Type.Literal("hotp"), Type.Literal("webauthn")]),
	status: Type.Union([Type.Literal("pending"), Type.Literal("active")]),
	label: Type.String(),
	created_at: Timestamp,
	activated_at: NullableTimestamp,
	last_used_at: NullableTimestamp,
	weak_secret: Type.Boolean({
		description: "Imported (issue 17) with a secret of 80-127 bits, accepted on import only (R-OTP-4 as amended): replace it when you can.",
	}),
	needs_resync: Type.Boolean({
		description: "An HOTP token imported without its counter: every code is refused until POST …/factors/{factor_id}/resync with two consecutive codes.",
	}),
	webauthn: Type.Optional(
		Type.Object(
			{
				aaguid: Type.String({ description: "The authenticator model's AAGUID; its own claim unless attestation is verified." }),
				attestation: Type.Union([Type.Literal("verified"), Type.Literal("none")], {
					description: "verified: the attestation chain reached a trust anchor configured on the server at registration (V-15).",
				}),
				model: Type.Union([Type.String(), Type.Null()], { description: "The model's description in the FIDO metadata file, when attested." }),
			},
			{ description: "WebAuthn factors with a registered credential." },
		),
	),
}, { $id: "Factor", description: "A factor's metadata; never its secret." });

export const MAX_LABEL_LENGTH = 128;
const LabelText = Type.String({ minLength: 1, maxLength: MAX_LABEL_LENGTH, pattern: NO_COLON_OR_CONTROL.pattern });
const LABEL = new RegExp(NO_COLON_OR_CONTROL.pattern, "u");

/** The label rule of the schemas above, for callers that do not pass through them (the prompt's pages). */
export function isFactorLabel(value: string): boolean {
	// JSON Schema's maxLength counts code points, as [...value] does.
	const length = [...value].length;
	return length >= 1 && length <= MAX_LABEL_LENGTH && LABEL.test(value);
}

export const RenameBody = Type.Object(
	{ label: LabelText },
	{ additionalProperties: false, description: "The factor's new name (as at enrollment: 1-128 characters, no ':' or control characters).", "x-examples": { rename: { summary: "Rename a factor", value: { label: "Old phone" } } } },
);

const EnrollTOTPBody = Type.Object(
	{
		type: Type.Literal("totp"),
		label: Type.Optional(LabelText),
		issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: NO_COLON_OR_CONTROL.pattern })),
		algorithm: Type.Optional(Type.Union([Type.Literal("SHA1"), Type.Literal("SHA256"), Type.Literal("SHA512")])),
		digits: Type.Optional(Type.Union([Type.Literal(6), Type.Literal(7), Type.Literal(8)])),
		period: Type.Optional(Type.Integer({ minimum: 15, maximum: 120 })),
		secret: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "Base32 secret to import (at least 16 bytes)." })),
		...ChangeProofFields,
	},
	{ additionalProperties: false, title: "Enroll TOTP" },
);

const EnrollHOTPBody = Type.Object(
	{
		type: Type.Literal("hotp"),
		label: Type.Optional(LabelText),
		issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: NO_COLON_OR_CONTROL.pattern })),
		algorithm: Type.Optional(Type.Union([Type.Literal("SHA1"), Type.Literal("SHA256"), Type.Literal("SHA512")])),
		digits: Type.Optional(Type.Union([Type.Literal(6), Type.Literal(7), Type.Literal(8)])),
		// Counters are kept as JavaScript numbers: 2^53 - 1 is the largest one stored exactly.
		counter: Type.Optional(
			Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "The counter of the first code the token will show (RFC 4226); default 0." }),
		),
		secret: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "Base32 secret to import (at least 16 bytes); it is not returned." })),
		...ChangeProofFields,
	},
	{ additionalProperties: false, title: "Enroll HOTP" },
);

const EnrollWebAuthnBody = Type.Object(
	{ type: Type.Literal("webauthn"), label: Type.Optional(LabelText), ...ChangeProofFields },
	{ additionalProperties: false, title: "Enroll WebAuthn" },
);

/** A user who has an active factor must add a proof from it (R-LC-1): code, or challenge_id + credential. */
export const EnrollBody = TaggedUnion([EnrollTOTPBody, EnrollHOTPBody, EnrollWebAuthnBody], { "x-examples": ENROLL_EXAMPLES });

// Ref(schema), not Ref("Factor"): the same {"$ref": "Factor"}, but typed as a Factor, so the routes' answers and the
// services' return types are checked against it (issue 14). Likewise for every reference to a named schema.
const FactorRef = Type.Ref(Factor);

export const EnrollWebAuthnResponse = Type.Object({
	factor: FactorRef,
	webauthn: Type.Object({ options: Type.Unknown({ description: "PublicKeyCredentialCreationOptionsJSON, for the browser helper." }) }),
});

export const EnrollResponse = Type.Object({
	factor: FactorRef,
	totp: Type.Object({
		secret: Type.String(),
		uri: Type.String(),
		qr_svg: Type.String(),
		qr_png: Type.String(),
	}),
});

export const EnrollHOTPResponse = Type.Object({
	factor: FactorRef,
	hotp: Type.Optional(
		Type.Object(
			{ secret: Type.String(), uri: Type.String({ description: "otpauth://hotp/…&counter=N" }), qr_svg: Type.String(), qr_png: Type.String() },
			{ description: "Only for a generated secret: an imported one is never echoed back." },
		),
	),
});

/** RFC 4226 §7.4 resynchronization: two codes the token showed one after the other. Their shape is checked as a counted attempt (V-2). */
export const ResyncBody = Type.Object(
	{ codes: Type.Unknown({ description: "Two consecutive codes from the HOTP token, e.g. [\"359152\", \"969429\"]: 6-8 ASCII digits each, in the order shown." }) },
	{ additionalProperties: false, "x-examples": RESYNC_EXAMPLES },
);

export const ConfirmBody = Type.Object(
	{ code: ProofFields.code, credential: Type.Optional(Credential) },
	{ additionalProperties: false, description: "TOTP, HOTP: a current code. WebAuthn: the registration response as credential.", "x-examples": CONFIRM_EXAMPLES },
);
export const ConfirmResponse = Type.Object({
	factor: FactorRef,
	recovery_codes: Type.Optional(Type.Array(Type.String())),
	assertion: Type.String({ description: "A step-up assertion (compact JWS): the new factor just proved itself." }),
});

export const FactorList = Type.Object({ factors: Type.Array(FactorRef) });

export const ChangeBody = Type.Object(
	{ ...ChangeProofFields, reason: Type.Optional(Reason) },
	{
		additionalProperties: false,
		description: "Either a proof (a current code, a WebAuthn assertion, or a fresh step-up assertion), or (admin keys) a reason.",
		"x-examples": CHANGE_EXAMPLES,
	},
);
