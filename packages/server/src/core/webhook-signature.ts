import { createHmac } from "node:crypto";
import type { RandomReader } from "./random.js";

/**
 * Standard Webhooks signing (standardwebhooks.com, "Signature scheme"): the
 * secret is "whsec_" + base64 of random bytes; the signature is
 * "v1," + base64(HMAC-SHA256(secret bytes, "{webhook-id}.{webhook-timestamp}.{body}")).
 * Several signatures, space-separated, let a receiver accept either secret
 * while one is being rotated.
 */
export const WEBHOOK_SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;

export function newWebhookSecret(random: RandomReader): string {
	return `${WEBHOOK_SECRET_PREFIX}${Buffer.from(random(SECRET_BYTES)).toString("base64")}`;
}

export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
	const key = Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), "base64");
	return `v1,${createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`).digest("base64")}`;
}
