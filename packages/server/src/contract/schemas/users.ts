import { Type } from "@sinclair/typebox";
import { Reason, Timestamp } from "./common.js";
import { Factor } from "./factors.js";
import { RESET_EXAMPLES } from "./examples.js";

export const User = Type.Object({
	id: Type.String(),
	factors: Type.Array(Type.Ref(Factor)),
	recovery_codes_remaining: Type.Integer(),
	locked: Type.Boolean(),
	created_at: Timestamp,
}, { $id: "User", description: "A user's second-factor state." });

export const RecoveryCodes = Type.Object({ recovery_codes: Type.Array(Type.String()) });

export const ResetBody = Type.Object(
	{
		reason: Reason,
		notify_email: Type.Optional(Type.String({ minLength: 3, maxLength: 254, description: "Where to send the user a notice of the reset; used for this message and not kept." })),
	},
	{ additionalProperties: false, "x-examples": RESET_EXAMPLES },
);
export const ResetResponse = Type.Object({ reset: Type.Literal(true), factors_removed: Type.Integer(), emailed: Type.Boolean() });
