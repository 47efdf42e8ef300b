import { Type } from "@sinclair/typebox";
import { Code, NullableTimestamp, Reason, Timestamp } from "./common.js";

export const Factor = Type.Object({
	id: Type.String(),
	type: Type.Literal("totp"),
	status: Type.Union([Type.Literal("pending"), Type.Literal("active")]),
	label: Type.String(),
	created_at: Timestamp,
	activated_at: NullableTimestamp,
	last_used_at: NullableTimestamp,
});

const LabelText = Type.String({ minLength: 1, maxLength: 128, pattern: "^[^:\\x00-\\x1F\\x7F]+$" });

export const EnrollBody = Type.Object(
	{
		type: Type.Literal("totp"),
		label: Type.Optional(LabelText),
		issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: "^[^:\\x00-\\x1F\\x7F]+$" })),
		algorithm: Type.Optional(Type.Union([Type.Literal("SHA1"), Type.Literal("SHA256"), Type.Literal("SHA512")])),
		digits: Type.Optional(Type.Union([Type.Literal(6), Type.Literal(7), Type.Literal(8)])),
		period: Type.Optional(Type.Integer({ minimum: 15, maximum: 120 })),
		secret: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "Base32 secret to import (at least 16 bytes)." })),
	},
	{ additionalProperties: false },
);

export const EnrollResponse = Type.Object({
	factor: Factor,
	totp: Type.Object({
		secret: Type.String(),
		uri: Type.String(),
		qr_svg: Type.String(),
		qr_png: Type.String(),
	}),
});

export const ConfirmBody = Type.Object({ code: Code }, { additionalProperties: false });
export const ConfirmResponse = Type.Object({ factor: Factor, recovery_codes: Type.Optional(Type.Array(Type.String())) });

export const FactorList = Type.Object({ factors: Type.Array(Factor) });

export const ChangeBody = Type.Object(
	{ code: Type.Optional(Code), reason: Type.Optional(Reason) },
	{ additionalProperties: false, description: "Either a current code, or (admin keys) a reason." },
);
