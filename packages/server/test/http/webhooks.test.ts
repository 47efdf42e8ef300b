import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signWebhook } from "../../src/core/webhook-signature.js";
import { appendEvent } from "../../src/services/events.js";
import { randomBytes } from "node:crypto";
import { EnvelopeError, openSecret } from "../../src/core/envelope.js";
import { createKeyring } from "../../src/core/keyring.js";
import { deliverDue, RETRY_DELAYS_SECONDS, startWebhookWorker } from "../../src/services/webhook-delivery.js";
import { httpSender } from "../../src/webhook-delivery/http-sender.js";
import { openWebhookSecret, webhookSecretData } from "../../src/services/webhooks.js";
import { buildTestApp, codeFor, DIALECTS, enrollActive, expectNotDecodable, nextStep, type TestApp } from "../helpers.js";

interface Received {
	headers: IncomingHttpHeaders;
	body: string;
}

/** A real receiver on loopback; `answer` decides each response's status. */
class Receiver {
	readonly received: Received[] = [];
	answer: (message: Received) => number = () => 204;
	private server: Server | undefined;
	port = 0;

	async start(port = 0): Promise<void> {
		this.server = createServer((request, response) => {
			let body = "";
			request.on("data", (chunk) => (body += chunk));
			request.on("end", () => {
				const message = { headers: request.headers, body };
				this.received.push(message);
				response.writeHead(this.answer(message)).end();
			});
		});
		await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
		this.port = (this.server!.address() as AddressInfo).port;
	}
	async stop(): Promise<void> {
		await new Promise((resolve) => this.server?.close(resolve));
		this.server = undefined;
	}
	get url(): string {
		return `http://127.0.0.1:${this.port}/hooks`;
	}
}

const headersOf = (message: Received): Record<string, string> => ({
	"webhook-id": String(message.headers["webhook-id"]),
	"webhook-timestamp": String(message.headers["webhook-timestamp"]),
	"webhook-signature": String(message.headers["webhook-signature"]),
});

/** The messages the reference receiver accepts under this secret. */
const signedWith = (secret: string) => (message: Received) => {
	try {
		new Webhook(secret).verify(message.body, headersOf(message));
		return true;
	} catch {
		return false;
	}
};

/** Webhooks (issue 5): management, signatures checked by the reference library, the outbox, retries, order, SSRF. */
describe.each(DIALECTS)("webhooks (%s)", (dialect) => {
	let t: TestApp;
	let receiver: Receiver;
	const send = httpSender(true);
	/** Delivery passes until nothing is due; the test clock decides what is. */
	const drain = async () => {
		while ((await deliverDue(t.app.services.deps, send)) > 0);
	};

	beforeAll(async () => {
		t = await buildTestApp({ dialect, env: { TWOFOLD_WEBHOOK_ALLOW_PRIVATE: "true" } });
		receiver = new Receiver();
		await receiver.start();
	});
	afterAll(async () => {
		await receiver.stop();
		await t.close();
	});
	afterEach(async () => {
		for (const webhook of (await t.call("GET", "/v1/webhooks")).json.webhooks) await t.call("DELETE", `/v1/webhooks/${webhook.id}`);
		receiver.received.length = 0;
		receiver.answer = () => 204;
	});

	it("manages endpoints with an admin key; the secret is shown once and sealed at rest", async () => {
		const created = await t.call("POST", "/v1/webhooks", { url: receiver.url, events: ["*"] });
		expect(created.status, created.body).toBe(201);
		expect(created.json).toMatchObject({ webhook: { id: expect.stringMatching(/^whk_/), url: receiver.url, events: ["*"], enabled: true }, secret: expect.stringMatching(/^whsec_/) });
		const { id } = created.json.webhook;
		const listed = await t.call("GET", "/v1/webhooks");
		expect(listed.json.webhooks).toHaveLength(1);
		expect(listed.body).not.toContain(created.json.secret);
		const row = (await t.app.store.webhooks.find(t.tenantId, id))!;
		expect(JSON.stringify(row)).not.toContain(created.json.secret.slice(6));
		// Sealed, not encoded (R-ST-1): no part of the stored value decodes to the secret; it opens with
		// the master key to exactly the secret, and without it (a key ring of another master key, or
		// another key under the same key id) it does not open at all.
		const secretText: string = created.json.secret;
		for (const value of Object.values(row)) if (typeof value === "string") expectNotDecodable(value, [secretText, secretText.slice(6), Buffer.from(secretText.slice(6), "base64")]);
		expect(openWebhookSecret(t.app.services.deps, row, row.secret_envelope)).toBe(secretText);
		const foreign = createKeyring([randomBytes(32)]);
		expect(() => openSecret(foreign, row.secret_envelope, webhookSecretData(row))).toThrow(EnvelopeError);
		const sameIdWrongKey = { ...t.app.services.deps.keyring, keys: new Map([[t.app.services.deps.keyring.activeKeyId, new Uint8Array(randomBytes(32))]]) };
		expect(() => openSecret(sameIdWrongKey, row.secret_envelope, webhookSecretData(row))).toThrow(/failed authentication/);

		expect((await t.call("PATCH", `/v1/webhooks/${id}`, { events: ["factor.activated", "user.locked"], enabled: false })).json).toMatchObject({ events: ["factor.activated", "user.locked"], enabled: false });
		for (const bad of [{ url: receiver.url, events: [] }, { url: receiver.url, events: ["*", "user.locked"] }, { url: receiver.url, events: ["no.such"] }, { url: "ftp://example.com/", events: ["*"] }, { url: "http://user:pw@127.0.0.1/", events: ["*"] }]) {
			expect((await t.call("POST", "/v1/webhooks", bad)).status, JSON.stringify(bad)).toBe(400);
		}
		const plain = await t.app.services.apiKeys.create(t.tenantId, "default");
		expect((await t.call("GET", "/v1/webhooks", undefined, plain.token)).json.error.code).toBe("forbidden");
		const other = await t.app.services.tenants.create(`hooks-${dialect}`);
		expect((await t.call("DELETE", `/v1/webhooks/${id}`, undefined, other.apiKey)).json.error.code).toBe("webhook_not_found");
		expect((await t.call("DELETE", `/v1/webhooks/${id}`)).status).toBe(204);
		expect((await t.call("PATCH", `/v1/webhooks/${id}`, { enabled: true })).json.error.code).toBe("webhook_not_found");
	});

	it("delivers every subscribed event, signed so the Standard Webhooks library accepts it; a changed byte is refused", async () => {
		const { secret } = (await t.call("POST", "/v1/webhooks", { url: receiver.url, events: ["*"] })).json;
		const filtered = (await t.call("POST", "/v1/webhooks", { url: receiver.url.replace("/hooks", "/only-activated"), events: ["factor.activated"] })).json;
		await enrollActive(t, "hook-user");
		await drain();
		const events = (await t.call("GET", "/v1/events?user_id=hook-user")).json.events.reverse();
		const verifier = new Webhook(secret);
		const mine = receiver.received.filter(signedWith(secret));
		// Every event of the user came to the "*" endpoint, in order, with its event id as webhook-id.
		const forUser = mine.map((m) => JSON.parse(m.body)).filter((p) => p.data.user_id === "hook-user");
		expect(forUser.map((p) => p.data.event_id)).toEqual(events.map((e: { id: string }) => e.id));
		expect(forUser.map((p) => p.type)).toEqual(["factor.created", "factor.activated"]);
		expect(forUser[1]).toMatchObject({ version: 1, type: "factor.activated", data: { user_id: "hook-user", type: "totp" } });
		expect(forUser[1].sequence).toBeGreaterThan(forUser[0].sequence);
		// The filtered endpoint got only factor.activated, signed with its own secret.
		const filteredMessages = receiver.received.filter(signedWith(filtered.secret));
		expect(filteredMessages.map((m) => JSON.parse(m.body).type)).toEqual(["factor.activated"]);
		// A changed byte anywhere fails the signature.
		const sample = mine.find((m) => JSON.parse(m.body).type === "factor.activated")!;
		expect(() => verifier.verify(sample.body.replace("hook-user", "hook-usef"), headersOf(sample))).toThrow();
		expect(() => verifier.verify(sample.body, { ...headersOf(sample), "webhook-id": "evt_other" })).toThrow();
	});

	it("concurrent delivery passes claim disjoint deliveries: each event is sent once (FOR UPDATE SKIP LOCKED on PostgreSQL)", async () => {
		await t.call("POST", "/v1/webhooks", { url: receiver.url, events: ["user.unlocked"] });
		const deps = t.app.services.deps;
		for (let i = 0; i < 30; i++) {
			await deps.store.transaction((tx) => appendEvent(tx, deps.random, deps.clock().getTime(), { tenantId: t.tenantId, userId: `claim-${i}`, type: "user.unlocked", data: {} }));
		}
		await Promise.all(Array.from({ length: 4 }, () => deliverDue(deps, send)));
		await drain();
		const ids = receiver.received.map((m) => String(m.headers["webhook-id"]));
		expect(ids).toHaveLength(30);
		expect(new Set(ids).size).toBe(30);
	});

	it("a rolled-back change leaves no event and no delivery (D-4)", async () => {
		const { webhook } = (await t.call("POST", "/v1/webhooks", { url: receiver.url, events: ["*"] })).json;
		const deps = t.app.services.deps;
		await expect(
			deps.store.transaction(async (tx) => {
				await appendEvent(tx, deps.random, deps.clock().getTime(), { tenantId: t.tenantId, userId: "ghost", type: "user.locked", data: { failed_attempts: 100 } });
				throw new Error("rolled back");
			}),
		).rejects.toThrow("rolled back");
		expect((await t.call("GET", "/v1/events?user_id=ghost")).json.events).toHaveLength(0);
		expect((await t.call("GET", `/v1/webhooks/${webhook.id}/deliveries`)).json.deliveries.filter((d: { event_type: string }) => d.event_type === "user.locked")).toHaveLength(0);
	});

	it("retries with backoff, keeps order per user while one is pending, and reports status and attempts", async () => {
		const { webhook } = (await t.call("POST", "/v1/webhooks", { url: receiver.url, events: ["factor.created", "factor.activated"] })).json;
		receiver.answer = () => 503;
		await enrollActive(t, "hook-retry");
		await drain();
		// Only the first event was tried: the second waits behind it (order per user).
		expect(receiver.received.map((m) => JSON.parse(m.body).type)).toEqual(["factor.created"]);
		let deliveries = (await t.call("GET", `/v1/webhooks/${webhook.id}/deliveries`)).json.deliveries;
		const first = deliveries.find((d: { event_type: string }) => d.event_type === "factor.created");
		expect(first).toMatchObject({ status: "pending", attempts: 1, last_status_code: 503, last_error: "HTTP 503" });
		const wait = Date.parse(first.next_attempt_at) - t.clock().getTime();
		expect(wait).toBeGreaterThanOrEqual(RETRY_DELAYS_SECONDS[0]! * 800);
		expect(wait).toBeLessThanOrEqual(RETRY_DELAYS_SECONDS[0]! * 1200);
		// Not due yet: nothing is sent.
		await drain();
		expect(receiver.received).toHaveLength(1);
		receiver.answer = () => 200;
		t.clock.advance(wait);
		await drain();
		const sent = receiver.received.map((m) => ({ id: m.headers["webhook-id"], type: JSON.parse(m.body).type }));
		expect(sent.map((m) => m.type)).toEqual(["factor.created", "factor.created", "factor.activated"]);
		expect(sent[0]!.id).toBe(sent[1]!.id); // the same webhook-id on a retry
		deliveries = (await t.call("GET", `/v1/webhooks/${webhook.id}/deliveries`)).json.deliveries;
		expect(deliveries.every((d: { status: string }) => d.status === "delivered")).toBe(true);
		expect(deliveries.find((d: { event_type: string }) => d.event_type === "factor.created")).toMatchObject({ attempts: 2, last_status_code: 200 });
	});

	it("an endpoint that fails for more than a day is disabled with an event; it can be enabled and a delivery retried", async () => {
		const { webhook } = (await t.call("POST", "/v1/webhooks", { url: receiver.url, events: ["user.unlocked"] })).json;
		receiver.answer = () => 500;
		const deps = t.app.services.deps;
		await deps.store.transaction((tx) => appendEvent(tx, deps.random, deps.clock().getTime(), { tenantId: t.tenantId, userId: "hook-down", type: "user.unlocked", data: {} }));
		const started = t.clock().getTime();
		for (let attempt = 0; attempt <= RETRY_DELAYS_SECONDS.length; attempt++) {
			await drain();
			t.clock.advance(RETRY_DELAYS_SECONDS[attempt] === undefined ? 0 : RETRY_DELAYS_SECONDS[attempt]! * 1200);
		}
		expect(receiver.received).toHaveLength(RETRY_DELAYS_SECONDS.length + 1);
		expect(t.clock().getTime() - started).toBeGreaterThan(24 * 3600 * 1000);
		const [delivery] = (await t.call("GET", `/v1/webhooks/${webhook.id}/deliveries`)).json.deliveries;
		expect(delivery).toMatchObject({ status: "failed", attempts: RETRY_DELAYS_SECONDS.length + 1, last_status_code: 500 });
		expect((await t.call("GET", "/v1/webhooks")).json.webhooks[0]).toMatchObject({ enabled: false, disabled_at: expect.any(String) });
		const disabled = (await t.call("GET", "/v1/events?type=webhook.disabled")).json.events;
		expect(disabled[0].data).toMatchObject({ webhook_id: webhook.id, reason: "deliveries kept failing" });

		receiver.answer = () => 204;
		expect((await t.call("PATCH", `/v1/webhooks/${webhook.id}`, { enabled: true })).json.enabled).toBe(true);
		expect((await t.call("POST", `/v1/webhooks/${webhook.id}/deliveries/${delivery.id}/retry`)).status).toBe(202);
		await drain();
		expect((await t.call("GET", `/v1/webhooks/${webhook.id}/deliveries`)).json.deliveries[0].status).toBe("delivered");
		expect((await t.call("POST", `/v1/webhooks/${webhook.id}/deliveries/${delivery.id}/retry`)).json.error.code).toBe("delivery_not_found");
	});

	it("a rotated secret signs beside the old one for 24 hours", async () => {
		t.clock.set(Date.now()); // the reference receiver checks webhook-timestamp against the wall clock
		const created = (await t.call("POST", "/v1/webhooks", { url: receiver.url, events: ["user.unlocked"] })).json;
		const rotated = await t.call("POST", `/v1/webhooks/${created.webhook.id}/rotate-secret`);
		expect(rotated.json).toMatchObject({ secret: expect.stringMatching(/^whsec_/), previous_secret_expires_at: expect.any(String) });
		const deps = t.app.services.deps;
		const unlock = () => deps.store.transaction((tx) => appendEvent(tx, deps.random, deps.clock().getTime(), { tenantId: t.tenantId, userId: "hook-rot", type: "user.unlocked", data: {} }));
		await unlock();
		await drain();
		const [message] = receiver.received;
		expect(String(message!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
		for (const secret of [created.secret, rotated.json.secret]) expect(() => new Webhook(secret).verify(message!.body, headersOf(message!))).not.toThrow();
		t.clock.advance(24 * 3600 * 1000 + 1);
		await unlock();
		await drain();
		// A day later (by the test clock, so checked without the receiver's wall-clock window): the new secret alone.
		const later = headersOf(receiver.received[1]!);
		const expected = signWebhook(rotated.json.secret, later["webhook-id"], Number(later["webhook-timestamp"]), receiver.received[1]!.body);
		expect(later["webhook-signature"]).toBe(expected);
	});

	it("receiver down, then up: everything arrives, in order per user", async () => {
		const down = new Receiver();
		await down.start();
		const port = down.port;
		await down.stop(); // nothing listens on the port now
		const { webhook } = (await t.call("POST", "/v1/webhooks", { url: `http://127.0.0.1:${port}/hooks`, events: ["*"] })).json;
		for (const user of ["order-a", "order-b"]) {
			const { secret } = await enrollActive(t, user);
			nextStep(t.clock);
			await t.call("POST", `/v1/users/${user}/verify`, { code: codeFor(secret, t.clock()) });
		}
		await drain();
		const pending = (await t.call("GET", `/v1/webhooks/${webhook.id}/deliveries`)).json.deliveries;
		expect(pending.every((d: { status: string; last_error: string | null }) => d.status === "pending")).toBe(true);
		expect(pending.some((d: { last_error: string | null }) => d.last_error?.includes("ECONNREFUSED"))).toBe(true);
		const up = new Receiver();
		await up.start(port);
		try {
			for (let i = 0; i < 6; i++) {
				t.clock.advance(3 * 60 * 1000);
				await drain();
			}
			const byUser = (user: string) => up.received.map((m) => JSON.parse(m.body)).filter((p) => p.data.user_id === user);
			for (const user of ["order-a", "order-b"]) {
				expect(byUser(user).map((p) => p.type)).toEqual(["factor.created", "factor.activated", "verification.succeeded"]);
				const sequences = byUser(user).map((p) => p.sequence);
				expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
			}
		} finally {
			await up.stop();
		}
	});
});

describe("webhook destinations (SSRF)", () => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp();
	});
	afterAll(() => t.close());

	it("refuses loopback, private, link-local and names resolving to them, and says how to allow them", async () => {
		for (const url of ["http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/", "http://192.168.0.10/", "http://[::1]/", "http://169.254.169.254/latest/meta-data", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/"]) {
			const res = await t.call("POST", "/v1/webhooks", { url, events: ["*"] });
			expect(res.json.error?.code, url).toBe("webhook_url_not_allowed");
			expect(res.json.error.message).toContain("TWOFOLD_WEBHOOK_ALLOW_PRIVATE=true");
		}
		expect((await t.call("POST", "/v1/webhooks", { url: "http://no-such-host.invalid/", events: ["*"] })).json.error.code).toBe("invalid_webhook_url");
	});

	it("refuses them again at delivery time, whatever was saved", async () => {
		const send = httpSender(false);
		expect(await send("http://127.0.0.1:9/x", {}, "{}")).toEqual({ error: "destination not allowed (private address)" });
		expect(await send("http://localhost:9/x", {}, "{}")).toMatchObject({ error: expect.stringContaining("private address") });
	});
});

/**
 * SSRF at delivery time (issue 20): the real worker, started as `serve` starts it (no sender
 * injected) under the default configuration, against endpoints whose URLs were written straight
 * into the store, as if a saved name now resolved (DNS rebinding) to a loopback receiver.
 */
describe.each(DIALECTS)("webhook delivery under the default configuration (%s)", (dialect) => {
	let t: TestApp;
	let receiver: Receiver;
	beforeAll(async () => {
		t = await buildTestApp({ dialect });
		expect(t.app.config.webhookAllowPrivate).toBe(false);
		receiver = new Receiver();
		await receiver.start();
	});
	afterAll(async () => {
		await receiver.stop();
		await t.close();
	});

	it("the worker refuses private addresses that reached the store, sends nothing, and records why", async () => {
		const ids: string[] = [];
		for (const saved of ["http://93.184.215.14/hooks", "http://93.184.215.15/hooks"]) {
			const created = await t.call("POST", "/v1/webhooks", { url: saved, events: ["*"] });
			expect(created.status, created.body).toBe(201);
			ids.push(created.json.webhook.id);
		}
		// One address literal and one name that resolves to loopback, both the receiver's.
		const targets = [receiver.url, receiver.url.replace("127.0.0.1", "localhost")];
		for (const [i, id] of ids.entries()) expect(await t.app.services.deps.store.webhooks.update(t.tenantId, id, { url: targets[i]! })).toBe(true);
		await enrollActive(t, "rebound-user");

		const worker = startWebhookWorker(t.app.services.deps, { pollMs: 20 });
		try {
			const deadline = Date.now() + 15_000;
			for (;;) {
				const deliveries = await Promise.all(ids.map(async (id) => (await t.call("GET", `/v1/webhooks/${id}/deliveries`)).json.deliveries as { event_type: string; attempts: number; status: string; last_error: string | null }[]));
				// Later events of the user wait behind a pending one (order per user), so the user's
				// first event is the one that must have been tried on both endpoints.
				if (deliveries.every((list) => list.some((d) => d.event_type === "factor.created" && d.attempts > 0))) {
					for (const delivery of deliveries.flat().filter((d) => d.attempts > 0)) {
						expect(delivery.status).toBe("pending");
						expect(delivery.last_error).toMatch(/private address/);
					}
					break;
				}
				if (Date.now() > deadline) throw new Error(`the worker did not attempt every delivery: ${JSON.stringify(deliveries)}`);
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
		} finally {
			await worker.stop();
		}
		expect(receiver.received).toEqual([]);
	});
});
