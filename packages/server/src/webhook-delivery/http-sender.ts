import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { isPrivateAddress } from "./private-address.js";
import { guardedLookup } from "./webhook-destination.js";

/**
 * How a webhook leaves the process: one POST, nothing else. What is sent and what its outcome means
 * (retries, disabling an endpoint) is the outbox worker's business (services/webhook-delivery.ts).
 */
const SEND_TIMEOUT_MS = 10_000;

export type SendOutcome = { status: number } | { error: string };
export type Sender = (url: string, headers: Record<string, string>, body: string) => Promise<SendOutcome>;

/** POST over node:http(s) with the guarded lookup: no redirects followed, a timeout, private addresses refused at connect time. */
export function httpSender(allowPrivate: boolean): Sender {
	const lookup = guardedLookup(allowPrivate);
	return (url, headers, body) =>
		new Promise((resolve) => {
			const target = new URL(url);
			const host = target.hostname.replace(/^\[|\]$/g, "");
			// An address literal is never looked up, so it is checked here.
			if (!allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) return resolve({ error: "destination not allowed (private address)" });
			const request = (target.protocol === "https:" ? httpsRequest : httpRequest)(
				target,
				{ method: "POST", headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) }, lookup, timeout: SEND_TIMEOUT_MS },
				(response) => {
					response.resume(); // the body is not read: a receiver's answer is its status
					response.on("end", () => resolve({ status: response.statusCode ?? 0 }));
					response.on("error", (error) => resolve({ error: error.message }));
				},
			);
			request.on("timeout", () => request.destroy(new Error("timed out")));
			request.on("error", (error) => resolve({ error: error.message.slice(0, 200) }));
			request.end(body);
		});
}
