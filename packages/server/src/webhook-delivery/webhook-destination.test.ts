import { createServer as createHTTPServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createTCPServer, type AddressInfo, type Server as TCPServer, type Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { httpSender } from "./http-sender.js";
import { checkWebhookURL, DestinationRefused, guardedLookup, WebhookURLRefused } from "./webhook-destination.js";

/*
 * Where a webhook may go and how it leaves the process (SSRF: ASVS5 1.3.6, issue 12 #5; docs/SECURITY.md has no
 * SSRF requirement id). Real lookups (the machine's resolver: "localhost" is loopback, ".invalid" never resolves,
 * RFC 6761) and real receivers on loopback; private-address.ts's table is pinned in private-address.test.ts.
 */

async function refusal(text: string, allowPrivate: boolean): Promise<{ code: string; message: string }> {
	const error = await checkWebhookURL(text, allowPrivate).then(
		() => undefined,
		(thrown: unknown) => thrown,
	);
	expect(error, text).toBeInstanceOf(WebhookURLRefused);
	expect((error as Error).name).toBe("WebhookURLRefused");
	return { code: (error as WebhookURLRefused).code, message: (error as WebhookURLRefused).message };
}

describe("webhook URLs when saved (ASVS5 1.3.6, issue 12 #5)", () => {
	it("accepts http and https URLs to a public address, in their normalized form", async () => {
		expect(await checkWebhookURL("https://93.184.215.14/hooks", false)).toBe("https://93.184.215.14/hooks");
		expect(await checkWebhookURL("HTTP://93.184.215.14:8080/a/../hooks?x=1", false)).toBe("http://93.184.215.14:8080/hooks?x=1");
		expect(await checkWebhookURL("http://[2606:4700::1111]/hooks", false)).toBe("http://[2606:4700::1111]/hooks");
	});

	it("refuses what is not an absolute URL, another scheme, a user, a password or a fragment", async () => {
		for (const text of ["not a url", "/hooks", ""]) expect(await refusal(text, true)).toEqual({ code: "invalid_webhook_url", message: "must be an absolute http(s) URL" });
		for (const text of ["ftp://93.184.215.14/", "file:///etc/passwd", "ws://93.184.215.14/", "http://user@93.184.215.14/", "http://:secret@93.184.215.14/", "https://93.184.215.14/hooks#part"]) {
			expect(await refusal(text, true), text).toEqual({ code: "invalid_webhook_url", message: "must be http or https, without user, password or #fragment" });
		}
	});

	it("refuses a name that does not resolve, whether or not private destinations are allowed", async () => {
		for (const allowPrivate of [false, true]) {
			expect(await refusal("http://no-such-host.invalid/hooks", allowPrivate)).toEqual({ code: "invalid_webhook_url", message: "must have a host name that resolves" });
		}
	});

	it("refuses a private address literal or a name resolving to one, unless private destinations are allowed", async () => {
		for (const text of ["http://127.0.0.1/hooks", "http://[::1]/hooks", "http://localhost:8080/hooks"]) {
			// The message names the switch that allows them, as docs/errors.md says for webhook_url_not_allowed.
			expect(await refusal(text, false), text).toEqual({
				code: "webhook_url_not_allowed",
				message: "must resolve only to globally reachable addresses (TWOFOLD_WEBHOOK_ALLOW_PRIVATE=true allows others)",
			});
			expect(await checkWebhookURL(text, true), text).toBe(new URL(text).href);
		}
	});
});

describe("the lookup every webhook connection uses (DNS rebinding)", () => {
	const resolve = (allowPrivate: boolean, hostname: string, options: { all?: boolean; family?: number }) =>
		new Promise<{ error: Error | null; address: unknown; family: unknown }>((done) => {
			guardedLookup(allowPrivate)(hostname, options as never, ((error: Error | null, address: unknown, family: unknown) => done({ error, address, family })) as never);
		});

	it("refuses a name resolving to a private address at connect time", async () => {
		const answer = await resolve(false, "localhost", {});
		expect(answer.error).toBeInstanceOf(DestinationRefused);
		expect(answer.error!.name).toBe("DestinationRefused");
		expect(answer.error!.message).toBe("localhost resolves to a private address");
	});

	it("when private destinations are allowed, answers in the form asked for: one address, or the list", async () => {
		expect(await resolve(true, "localhost", {})).toEqual({ error: null, address: "127.0.0.1", family: 4 });
		expect(await resolve(true, "localhost", { all: true })).toEqual({ error: null, address: [{ address: "127.0.0.1", family: 4 }], family: undefined });
	});

	it("passes a resolver error on", async () => {
		const answer = await resolve(true, "no-such-host.invalid", {});
		expect(answer.error).toMatchObject({ code: "ENOTFOUND" });
	});
});

/** A receiver on loopback that records what it was sent. */
class Receiver {
	readonly server: Server;
	received: { method: string | undefined; headers: IncomingHttpHeaders; body: Buffer }[] = [];
	answer: (response: import("node:http").ServerResponse) => void = (response) => response.writeHead(204).end();
	constructor() {
		this.server = createHTTPServer((request, response) => {
			const chunks: Buffer[] = [];
			request.on("data", (chunk: Buffer) => chunks.push(chunk));
			request.on("end", () => {
				this.received.push({ method: request.method, headers: request.headers, body: Buffer.concat(chunks) });
				this.answer(response);
			});
		});
	}
	async start(): Promise<void> {
		await new Promise<void>((done) => this.server.listen(0, "127.0.0.1", done));
	}
	get port(): number {
		return (this.server.address() as AddressInfo).port;
	}
	async stop(): Promise<void> {
		this.server.closeAllConnections();
		await new Promise((done) => this.server.close(done));
	}
}

describe("the webhook sender", () => {
	const receiver = new Receiver();
	beforeAll(() => receiver.start());
	afterAll(() => receiver.stop());
	afterEach(() => {
		receiver.received = [];
		receiver.answer = (response) => response.writeHead(204).end();
	});

	it("POSTs the body as JSON with its byte length, beside the given headers, and reports the receiver's status", async () => {
		const body = JSON.stringify({ name: "Zoë 🔐" });
		receiver.answer = (response) => response.writeHead(410, { "content-type": "text/plain" }).end("a body the sender does not read");
		expect(await httpSender(true)(`http://127.0.0.1:${receiver.port}/hooks`, { "webhook-id": "msg_1" }, body)).toEqual({ status: 410 });
		expect(receiver.received).toHaveLength(1);
		const [message] = receiver.received;
		expect(message!.method).toBe("POST");
		expect(message!.headers).toMatchObject({ "webhook-id": "msg_1", "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
		expect(message!.body.toString("utf8")).toBe(body);
	});

	it("connects to a name through the guarded lookup: allowed when private destinations are, refused before connecting otherwise", async () => {
		const url = `http://localhost:${receiver.port}/hooks`;
		// Refused first: the global agent keeps sockets alive per host and port, not per lookup, so a socket the
		// allowing sender opened would be reused (one process has one policy: config.webhookAllowPrivate).
		expect(await httpSender(false)(url, {}, "{}")).toEqual({ error: "localhost resolves to a private address" });
		expect(receiver.received).toHaveLength(0);
		expect(await httpSender(true)(url, {}, "{}")).toEqual({ status: 204 });
		expect(receiver.received).toHaveLength(1);
	});

	it("an address literal, which is never looked up, is refused before connecting: IPv4 and bracketed IPv6", async () => {
		for (const host of ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]"]) {
			expect(await httpSender(false)(`http://${host}:${receiver.port}/hooks`, {}, "{}"), host).toEqual({ error: "destination not allowed (private address)" });
		}
		expect(receiver.received).toEqual([]);
	});

	it("a name that does not resolve is a resolver error, not a private address; the stored error is at most 200 characters", async () => {
		expect(await httpSender(false)("http://no-such-host.invalid/hooks", {}, "{}")).toEqual({ error: "getaddrinfo ENOTFOUND no-such-host.invalid" });
		const long = `${Array.from({ length: 4 }, () => "a".repeat(60)).join(".")}.invalid`;
		const answer = (await httpSender(true)(`http://${long}/hooks`, {}, "{}")) as { error: string };
		expect(answer.error).toBe(`getaddrinfo ENOTFOUND ${long}`.slice(0, 200));
	});

	it("a response cut short is an error, not a status", async () => {
		receiver.answer = (response) => {
			response.writeHead(200, { "content-length": "100" });
			response.write("0123456789");
			setTimeout(() => response.socket?.destroy(), 50);
		};
		expect(await httpSender(true)(`http://127.0.0.1:${receiver.port}/hooks`, {}, "{}")).toEqual({ error: "aborted" });
	});

	describe("over raw TCP", () => {
		let server: TCPServer;
		const firstBytes: Buffer[] = [];
		const sockets = new Set<Socket>();
		beforeAll(async () => {
			server = createTCPServer((socket) => {
				sockets.add(socket);
				socket.once("data", (chunk: Buffer) => firstBytes.push(chunk));
				socket.on("error", () => undefined);
				socket.on("close", () => sockets.delete(socket));
			});
			await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
		});
		afterAll(async () => {
			for (const socket of sockets) socket.destroy();
			await new Promise((done) => server.close(done));
		});
		const port = () => (server.address() as AddressInfo).port;

		it("an https URL is sent over TLS: the first byte is a TLS handshake record, and a peer that is no TLS server is an error", async () => {
			firstBytes.length = 0;
			const sending = httpSender(true)(`https://127.0.0.1:${port()}/hooks`, {}, "{}");
			while (firstBytes.length === 0) await new Promise((done) => setTimeout(done, 20));
			expect(firstBytes[0]![0]).toBe(0x16); // TLS ContentType handshake (RFC 8446 §5.1), where plain HTTP starts with "P"
			for (const socket of sockets) socket.end("HTTP/1.1 200 OK\r\n\r\n");
			expect(await sending).toMatchObject({ error: expect.any(String) });
		});

		it("a receiver that accepts and never answers is given up after the send timeout (10 s), not waited for", async () => {
			const started = Date.now();
			expect(await httpSender(true)(`http://127.0.0.1:${port()}/hooks`, {}, "{}")).toEqual({ error: "timed out" });
			expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
		}, 40_000);
	});
});
