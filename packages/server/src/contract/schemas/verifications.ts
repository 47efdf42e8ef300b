import { Type } from "@sinclair/typebox";
import { Code } from "./common.js";

export const VerifyBody = Type.Object(
	{ code: Code, factor_id: Type.Optional(Type.String({ maxLength: 64 })) },
	{ additionalProperties: false },
);

export const VerifyResponse = Type.Object({
	valid: Type.Literal(true),
	method: Type.Union([Type.Literal("totp"), Type.Literal("recovery_code")]),
	factor_id: Type.Optional(Type.String()),
	recovery_codes_remaining: Type.Integer(),
});
