import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendEvent, eventObservers, type EventType } from "../../src/services/events.js";
import { buildTestApp, DIALECTS, type TestApp } from "../helpers.js";

/**
 * twofold_events_total counts committed events only (issue 14): an event appended in a transaction that then throws
 * was never kept (R-ST-5), so /metrics must not count it either; on SQLite a unit of a group commit counts only with
 * its own commit, not with its neighbour's.
 */
describe.each(DIALECTS)("event metrics count committed events only (%s)", (dialect) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
	});
	afterAll(() => t.close());

	const TYPE: EventType = "tenant.updated";
	async function counted(): Promise<number> {
		const text = (await t.call("GET", "/metrics", undefined, null)).body;
		const match = /^twofold_events_total\{type="tenant\.updated"\} (\d+)$/m.exec(text);
		return match === null ? 0 : Number(match[1]);
	}
	const append = (tx: Parameters<Parameters<TestApp["app"]["store"]["transaction"]>[0]>[0], marker: string) =>
		appendEvent(tx, t.app.services.deps.random, t.clock().getTime(), { tenantId: t.tenantId, type: TYPE, data: { marker } });
	async function stored(marker: string): Promise<number> {
		const events = (await t.call("GET", `/v1/events?type=${TYPE}&limit=100`)).json.events as { data: { marker?: string } }[];
		return events.filter((event) => event.data.marker === marker).length;
	}

	it("an after-commit callback that throws does not turn a committed transaction into an error: the work stands and its answer says so", async () => {
		const warned: Error[] = [];
		const onWarning = (warning: Error) => warned.push(warning);
		process.on("warning", onWarning);
		try {
			const result = await t.app.store.transaction(async (tx) => {
				await append(tx, "observer-throws");
				tx.afterCommit(() => {
					throw new Error("observer failed");
				});
				return "committed";
			});
			expect(result).toBe("committed");
			expect(await stored("observer-throws")).toBe(1);
			await new Promise((resolve) => setImmediate(resolve));
			expect(warned.map((warning) => warning.message)).toContain("an after-commit callback failed: observer failed");
		} finally {
			process.off("warning", onWarning);
		}
	});

	it("a transaction that appends an event and then throws leaves the metric unchanged; a committed one counts once", async () => {
		const before = await counted();
		await expect(
			t.app.store.transaction(async (tx) => {
				await append(tx, "rolled-back");
				throw new Error("boom");
			}),
		).rejects.toThrow("boom");
		expect(await stored("rolled-back")).toBe(0);
		expect(await counted()).toBe(before);

		await t.app.store.transaction((tx) => append(tx, "committed"));
		expect(await stored("committed")).toBe(1);
		expect(await counted()).toBe(before + 1);
	});

	it("observers hear of an event only once its transaction has returned, and a nested transaction's with the outer one", async () => {
		const heard: EventType[] = [];
		const observe = (type: EventType): void => void heard.push(type);
		eventObservers.add(observe);
		try {
			await t.app.store.transaction(async (tx) => {
				await tx.transaction((inner) => append(inner, "nested"));
				await append(tx, "outer");
				expect(heard).toEqual([]);
			});
			expect(heard).toEqual([TYPE, TYPE]);
		} finally {
			eventObservers.delete(observe);
		}
	});

	it("of two transactions committed together, the one that throws is not counted and the other is, once", async () => {
		const before = await counted();
		// Started in the same event-loop turn: on SQLite they run in one group commit, each in its own savepoint.
		const [failed, kept] = await Promise.allSettled([
			t.app.store.transaction(async (tx) => {
				await append(tx, "grouped-rolled-back");
				throw new Error("boom");
			}),
			t.app.store.transaction((tx) => append(tx, "grouped-committed")),
		]);
		expect(failed.status).toBe("rejected");
		expect(kept.status).toBe("fulfilled");
		expect(await stored("grouped-rolled-back")).toBe(0);
		expect(await stored("grouped-committed")).toBe(1);
		expect(await counted()).toBe(before + 1);
	});
});
