import { describe, expect, it } from "vitest";
import { foldEvents, gaugeDeltas, HOUR_MS, kindBits, metricOf, type RollupEvent } from "./event-rollup.js";

const event = (seq: number, type: string, created_at: number, data: object = {}, user_id: string | null = "u1", tenant_id = "ten_a"): RollupEvent => ({ seq, tenant_id, user_id, type, data: JSON.stringify(data), created_at });

describe("event rollup fold (issue 16)", () => {
	it("counts each verification outcome under its metric, by method for a success, and nothing else", () => {
		expect(metricOf(event(1, "verification.succeeded", 0, { purpose: "verify", method: "webauthn" }))).toBe("verify.ok.webauthn");
		expect(metricOf(event(1, "verification.succeeded", 0, { method: "sms" }))).toBeUndefined();
		expect(metricOf({ type: "verification.succeeded", data: "not json" })).toBeUndefined();
		expect(metricOf(event(1, "verification.failed", 0, { purpose: "confirm" }))).toBe("verify.failed");
		expect(metricOf(event(1, "verification.replay_rejected", 0))).toBe("verify.replayed");
		expect(metricOf(event(1, "user.locked", 0))).toBe("lockouts");
		expect(metricOf(event(1, "factor.activated", 0))).toBeUndefined();
	});

	it("sums per tenant and hour, marks the users to recount, and stops at the first event inside the lag", () => {
		const t0 = 10 * HOUR_MS;
		const fold = foldEvents(
			[
				event(5, "verification.failed", t0 + 1),
				event(6, "verification.failed", t0 + 2, {}, "u2"),
				event(7, "verification.failed", t0 + HOUR_MS, {}, "u1", "ten_b"),
				event(8, "factor.activated", t0 + HOUR_MS, {}, "u3"),
				event(9, "user.deleted", t0 + HOUR_MS, {}, null),
				event(10, "verification.failed", t0 + 5 * HOUR_MS),
				event(11, "verification.failed", t0 + 2),
			],
			t0 + 5 * HOUR_MS,
			4,
		);
		expect([...fold.counts.values()]).toEqual([
			{ tenant_id: "ten_a", hour: t0, metric: "verify.failed", count: 2 },
			{ tenant_id: "ten_b", hour: t0 + HOUR_MS, metric: "verify.failed", count: 1 },
		]);
		expect([...fold.touched.values()]).toEqual([{ tenant_id: "ten_a", user_id: "u3" }]);
		// Event 11 is older, but follows one inside the lag in seq order: the cursor stops before both.
		expect(fold.lastSeq).toBe(9);
		expect(foldEvents([event(5, "user.locked", t0)], t0, 4).lastSeq).toBe(4);
	});

	it("moves the gauges by what a user's kinds changed", () => {
		expect(kindBits(["totp", "webauthn", "totp", "sms"])).toBe(5);
		expect(gaugeDeltas(0, kindBits(["totp"]))).toEqual({ "users.any": 1, "users.totp": 1 });
		expect(gaugeDeltas(kindBits(["totp"]), kindBits(["totp", "hotp"]))).toEqual({ "users.hotp": 1 });
		expect(gaugeDeltas(kindBits(["totp", "webauthn"]), 0)).toEqual({ "users.any": -1, "users.totp": -1, "users.webauthn": -1 });
		expect(gaugeDeltas(3, 3)).toEqual({});
	});
});
