import { Type } from "@sinclair/typebox";
import { Timestamp } from "./common.js";
import { Factor } from "./factors.js";

export const User = Type.Object({
	id: Type.String(),
	factors: Type.Array(Factor),
	recovery_codes_remaining: Type.Integer(),
	locked: Type.Boolean(),
	created_at: Timestamp,
});

export const RecoveryCodes = Type.Object({ recovery_codes: Type.Array(Type.String()) });
