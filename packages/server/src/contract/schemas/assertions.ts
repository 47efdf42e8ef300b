import { Type } from "@sinclair/typebox";
import { REDEEM_EXAMPLES } from "./examples.js";

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

export const RedeemBody = Type.Object({ assertion: Type.String({ minLength: 1, maxLength: 8192 }) }, { additionalProperties: false, "x-examples": REDEEM_EXAMPLES });

export const RedeemResponse = Type.Object({
	redeemed: Type.Literal(true),
	jti: Type.String(),
	sub: Type.String(),
	exp: Type.String({ format: "date-time" }),
	action_hash: Type.Optional(Type.String()),
});
