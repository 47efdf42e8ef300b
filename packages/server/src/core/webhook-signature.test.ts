import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, signWebhook } from "./webhook-signature.js";

describe("webhook signatures (Standard Webhooks)", () => {
	// The specification's own example (standard-webhooks spec, "Signature scheme"): secret, id, timestamp, body and signature.
	it("matches the specification's example", () => {
		const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
		const body = '{"test": 2432232314}';
		expect(signWebhook(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	});

	it("is accepted by the reference receiver, and a changed byte is not", () => {
		const secret = newWebhookSecret((n) => new Uint8Array(n).fill(7));
		const body = JSON.stringify({ type: "factor.activated", data: { user_id: "u-1" } });
		const timestamp = Math.floor(Date.now() / 1000);
		const headers = { "webhook-id": "evt_1", "webhook-timestamp": String(timestamp), "webhook-signature": signWebhook(secret, "evt_1", timestamp, body) };
		expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
		expect(() => new Webhook(secret).verify(body.replace("u-1", "u-2"), headers)).toThrow();
		expect(() => new Webhook(secret).verify(body, { ...headers, "webhook-id": "evt_2" })).toThrow();
	});
});
