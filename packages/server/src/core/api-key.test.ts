import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createAPIKey, hashAPIKeySecret, parseAPIKey } from "./api-key.js";

const random = (n: number) => new Uint8Array(randomBytes(n));

describe("API keys", () => {
	it("parses back to its id and a secret whose hash is stored, not the secret", () => {
		const key = createAPIKey(random);
		const parsed = parseAPIKey(key.token)!;
		expect(parsed.id).toBe(key.id);
		expect(hashAPIKeySecret(parsed.secret)).toBe(key.secretHash);
		expect(key.secretHash).not.toContain(parsed.secret);
	});

	it("rejects anything not shaped like a key", () => {
		const key = createAPIKey(random);
		for (const bad of ["", key.token.slice(0, -1), `${key.token}x`, key.token.replace("tfk_", "tfx_"), ` ${key.token}`]) {
			expect(parseAPIKey(bad)).toBeNull();
		}
	});
});
