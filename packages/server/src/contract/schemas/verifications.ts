import { Type } from "@sinclair/typebox";
import { AUDIENCE } from "./patterns.js";
import { ProofFields, TaggedUnion } from "./common.js";
import { CHALLENGE_EXAMPLES, VERIFY_EXAMPLES } from "./examples.js";

export const VerifyBody = Type.Object(
	{
		...ProofFields,
		factor_id: Type.Optional(Type.String({ maxLength: 64 })),
		action: Type.Optional(
			Type.Record(Type.String(), Type.Unknown(), {
				description: "What this proof approves, e.g. {\"method\":\"POST\",\"path\":\"/account/email\"}: its SHA-256 over canonical JSON becomes the assertion's action_hash.",
			}),
		),
		audience: Type.Optional(
			Type.String({
				minLength: 1,
				maxLength: 256,
				// Not a tenant id: every tenant's default audience is its id, and no tenant may mint another's.
				pattern: AUDIENCE.pattern,
				description: "The aud of the assertion, e.g. the API that will check it; default the tenant id. Verifiers then also check tid.",
			}),
		),
		first_factor: Type.Optional(Type.Boolean({ description: "true when the application verified a first factor (a password) too: the assertion's amr gets \"mfa\"." })),
	},
	{ additionalProperties: false, description: "A code, or challenge_id + credential (a WebAuthn assertion).", "x-examples": VERIFY_EXAMPLES },
);

export const ChallengeBody = TaggedUnion(
	[
		Type.Object({ type: Type.Literal("webauthn") }, { additionalProperties: false, title: "WebAuthn challenge" }),
		Type.Object(
			{ type: Type.Literal("email"), to: Type.String({ minLength: 3, maxLength: 254, description: "Where to send the code; used for this message and not kept." }) },
			{ additionalProperties: false, title: "Email code" },
		),
	],
	{ "x-examples": CHALLENGE_EXAMPLES },
);

const ChallengeInfo = Type.Object({ id: Type.String(), expires_at: Type.String({ format: "date-time" }) });
export const ChallengeResponse = Type.Union([
	Type.Object({
		challenge: ChallengeInfo,
		webauthn: Type.Object({ options: Type.Unknown({ description: "PublicKeyCredentialRequestOptionsJSON, for the browser helper." }) }),
	}),
	Type.Object({ challenge: ChallengeInfo, email: Type.Object({ sent: Type.Literal(true) }) }),
]);

export const Verification = Type.Object({
	valid: Type.Literal(true),
	method: Type.Union([Type.Literal("totp"), Type.Literal("hotp"), Type.Literal("webauthn"), Type.Literal("recovery_code"), Type.Literal("email")]),
	factor_id: Type.Optional(Type.String()),
	recovery_codes_remaining: Type.Integer(),
	assertion: Type.String({ description: "A step-up assertion (compact JWS, EdDSA) for the application's own API; see docs/assertions.md." }),
}, { $id: "Verification", description: "The proof was valid and is spent." });
