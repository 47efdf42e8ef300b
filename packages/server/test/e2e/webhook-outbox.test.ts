import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, type ServerProcess, startServer } from "./process.js";

/**
 * The outbox against a real process (D-4): a delivery committed with its change
 * survives `kill -9` of the server and is delivered after the restart, with the
 * same webhook-id, by the delivery loop `twofold serve` runs.
 */
describe("webhook outbox across kill -9", () => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-outbox-"));
	const env = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_WEBHOOK_ALLOW_PRIVATE: "true" };
	let server: ServerProcess;
	let receiver: Server;
	const received: { id: string; body: string; headers: Record<string, string> }[] = [];
	let answer = 503;

	beforeAll(async () => {
		receiver = createServer((request, response) => {
			let body = "";
			request.on("data", (chunk) => (body += chunk));
			request.on("end", () => {
				const headers = Object.fromEntries(["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) => [name, String(request.headers[name])]));
				received.push({ id: headers["webhook-id"]!, body, headers });
				response.writeHead(answer).end();
			});
		});
		await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
		server = await startServer(env);
	});
	afterAll(async () => {
		await server?.stop();
		await new Promise((resolve) => receiver.close(resolve));
		rmSync(dataDir, { recursive: true, force: true });
	});

	const waitFor = async (condition: () => boolean, ms: number) => {
		const until = Date.now() + ms;
		while (!condition()) {
			if (Date.now() > until) throw new Error("timed out waiting");
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	};

	it("a pending delivery is sent after a SIGKILL and restart, with the same webhook-id", async () => {
		const { api_key: key } = JSON.parse((await cli(["tenants", "create", "--name", "Outbox", "--json"], env)).stdout) as { api_key: string };
		const call = async (method: string, path: string, body?: unknown) =>
			(await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })).json();
		const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
		const { webhook, secret } = await call("POST", "/v1/webhooks", { url, events: ["factor.created"] });
		expect(webhook.id).toMatch(/^whk_/);
		await call("POST", "/v1/users/outbox-user/factors", { type: "totp" });

		// The first attempt is refused by the receiver and recorded; the retry is due about 5 s later. (A kill
		// before the record would leave the delivery under its 60 s claim lease, then retried just the same.)
		await waitFor(() => received.length === 1, 10_000);
		const firstId = received[0]!.id;
		for (let recorded = false; !recorded; ) {
			recorded = (await call("GET", `/v1/webhooks/${webhook.id}/deliveries`)).deliveries[0]?.attempts === 1;
			if (!recorded) await new Promise((resolve) => setTimeout(resolve, 50));
		}
		expect(await server.stop("SIGKILL")).toBeNull(); // killed by a signal: no exit code
		answer = 204;
		server = await startServer(env);
		await waitFor(() => received.length === 2, 20_000);
		expect(received[1]!.id).toBe(firstId);
		expect(() => new Webhook(secret).verify(received[1]!.body, received[1]!.headers)).not.toThrow();
		const deliveries = await call("GET", `/v1/webhooks/${webhook.id}/deliveries`);
		expect(deliveries.deliveries).toEqual([expect.objectContaining({ id: firstId, status: "delivered", attempts: 2, last_status_code: 204 })]);
	});
});
