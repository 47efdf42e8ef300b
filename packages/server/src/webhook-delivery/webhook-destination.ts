import { lookup } from "node:dns";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import { isPrivateAddress } from "./private-address.js";
import type { ErrorCode } from "../contract/errors.js";

/**
 * A URL refused as a webhook destination: the catalog code and what the URL must be. The use case that
 * received the URL (services/webhooks.ts) reports it against its own field.
 */
export class WebhookURLRefused extends Error {
	override readonly name = "WebhookURLRefused";
	readonly code: ErrorCode;

	constructor(code: "invalid_webhook_url" | "webhook_url_not_allowed", expectation: string) {
		super(expectation);
		this.code = code;
	}
}

/**
 * Where webhooks may go (SSRF): http(s) URLs without credentials whose host
 * resolves only to globally reachable addresses (private-address.ts: the IANA
 * special-purpose registries, transition ranges, embedded IPv4), unless the operator set
 * TWOFOLD_WEBHOOK_ALLOW_PRIVATE=true. Checked when an endpoint is saved and
 * again on every connection (the lookup below), so a name that later resolves
 * to a private address (DNS rebinding) is refused at delivery too.
 */
export async function checkWebhookURL(text: string, allowPrivate: boolean): Promise<string> {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new WebhookURLRefused("invalid_webhook_url", "must be an absolute http(s) URL");
	}
	if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username !== "" || url.password !== "" || url.hash !== "") {
		throw new WebhookURLRefused("invalid_webhook_url", "must be http or https, without user, password or #fragment");
	}
	const host = url.hostname.replace(/^\[|\]$/g, "");
	let addresses: string[];
	try {
		addresses = isIP(host) !== 0 ? [host] : (await lookupAll(host)).map((entry) => entry.address);
	} catch {
		throw new WebhookURLRefused("invalid_webhook_url", "must have a host name that resolves");
	}
	if (!allowPrivate && addresses.some(isPrivateAddress)) {
		throw new WebhookURLRefused("webhook_url_not_allowed", "must resolve only to globally reachable addresses (TWOFOLD_WEBHOOK_ALLOW_PRIVATE=true allows others)");
	}
	return url.href;
}

function lookupAll(host: string): Promise<{ address: string; family: number }[]> {
	return new Promise((resolve, reject) => lookup(host, { all: true }, (error, entries) => (error ? reject(error) : resolve(entries))));
}

export class DestinationRefused extends Error {
	override readonly name = "DestinationRefused";
}

/** The lookup every webhook connection uses: it refuses private addresses at connect time, whatever the name resolved to when saved. */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
	return (hostname, options, callback) => {
		lookup(hostname, { ...options, all: true }, (error, entries) => {
			if (error) return callback(error, "", 0);
			const list = entries as unknown as { address: string; family: number }[];
			if (!allowPrivate && list.some((entry) => isPrivateAddress(entry.address))) {
				return callback(new DestinationRefused(`${hostname} resolves to a private address`), "", 0);
			}
			if ((options as { all?: boolean }).all === true) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
			const first = list[0]!;
			callback(null, first.address, first.family);
		});
	};
}
