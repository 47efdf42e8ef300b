import type { Kysely } from "kysely";
import { preparedQuery } from "../prepared-query.js";
import type { EventRepository } from "../store.js";
import type { Database } from "../tables.js";

const append = preparedQuery(
	(db, id: string, tenantId: string, userId: string | null, type: string, factorId: string | null, data: string, createdAt: number) =>
		db.insertInto("events").values({ id, tenant_id: tenantId, user_id: userId, type, factor_id: factorId, data, created_at: createdAt }),
);

export function eventRepository(db: Kysely<Database>): EventRepository {
	return {
		async append(row) {
			await append(db, row.id, row.tenant_id, row.user_id, row.type, row.factor_id, row.data, row.created_at);
		},
		async list(tenantId, query) {
			let select = db.selectFrom("events").selectAll().where("tenant_id", "=", tenantId);
			if (query.userId !== undefined) select = select.where("user_id", "=", query.userId);
			if (query.type !== undefined) select = select.where("type", "=", query.type);
			if (query.beforeSeq !== undefined) select = select.where("seq", "<", query.beforeSeq);
			const rows = await select.orderBy("seq", "desc").limit(query.limit).execute();
			return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
		},
	};
}
