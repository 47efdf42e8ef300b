import { createHmac } from "node:crypto";
import type { RandomReader } from "./random.js";

/**
 * Numeric one-time codes for messages (email, R-EM-3): uniform digits from the
 * CSPRNG by rejection sampling (no modulo bias), kept only as an HMAC bound to
 * the tenant, user and challenge (R-EM-2, R-EM-4).
 */
export function generateNumericCode(random: RandomReader, digits: number): string {
	const range = 10 ** digits;
	const limit = Math.floor(0x1_0000_0000 / range) * range;
	for (;;) {
		const bytes = random(4);
		const value = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
		if (value < limit) return String(value % range).padStart(digits, "0");
	}
}

export function oneTimeCodeHash(key: Uint8Array, binding: { tenantId: string; userId: string; challengeId: string }, code: string): string {
	return createHmac("sha256", key).update(JSON.stringify([binding.tenantId, binding.userId, binding.challengeId, code])).digest("base64url");
}

/** {{name}} placeholders; for HTML every value is escaped. Unknown placeholders stay as they are. */
export function renderTemplate(template: string, values: Record<string, string>, html: boolean): string {
	return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
		const value = values[name];
		if (value === undefined) return whole;
		return html ? value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`) : value;
	});
}
