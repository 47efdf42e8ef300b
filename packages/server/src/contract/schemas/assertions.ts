import { Type } from "@sinclair/typebox";

export const JWKS = Type.Object({
	keys: Type.Array(
		Type.Object({
			kty: Type.Literal("OKP"),
			crv: Type.Literal("Ed25519"),
			x: Type.String(),
			kid: Type.String(),
			alg: Type.Literal("EdDSA"),
			use: Type.Literal("sig"),
		}),
	),
});

export const RedeemBody = Type.Object({ assertion: Type.String({ minLength: 1, maxLength: 8192 }) }, { additionalProperties: false });

export const RedeemResponse = Type.Object({
	redeemed: Type.Literal(true),
	jti: Type.String(),
	sub: Type.String(),
	exp: Type.String({ format: "date-time" }),
	action_hash: Type.Optional(Type.String()),
});
