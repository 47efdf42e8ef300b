import { Type } from "@sinclair/typebox";
import { CURSOR, PAGE_LIMIT } from "./patterns.js";
import { Timestamp, UserId } from "./common.js";

export const EventsQuery = Type.Object(
	{
		user_id: Type.Optional(UserId),
		type: Type.Optional(Type.String({ maxLength: 64 })),
		limit: Type.Optional(Type.String({ pattern: PAGE_LIMIT.pattern, description: "1-100, default 50" })),
		cursor: Type.Optional(Type.String({ pattern: CURSOR.pattern, description: "next_cursor from the previous page" })),
	},
	{ additionalProperties: false },
);

export const Event = Type.Object({
	id: Type.String(),
	type: Type.String(),
	user_id: Type.Union([Type.String(), Type.Null()]),
	factor_id: Type.Union([Type.String(), Type.Null()]),
	data: Type.Record(Type.String(), Type.Unknown()),
	created_at: Timestamp,
}, { $id: "Event", description: "An audit event: what happened, never a secret or code (docs/events.md)." });

export const EventList = Type.Object({ events: Type.Array(Type.Ref(Event)), next_cursor: Type.Union([Type.String(), Type.Null()]) });
