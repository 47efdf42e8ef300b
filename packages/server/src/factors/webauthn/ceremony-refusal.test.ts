import { describe, expect, it } from "vitest";
import { refusalFromError } from "./ceremony-refusal.js";

describe("refusalFromError: what reaches the operator's log (R-ST-4)", () => {
	it("keeps a check's message without its quoted values, and drops messages that can carry the client's own text", () => {
		expect(refusalFromError(new Error('Unexpected authentication response origin "https://evil.example", expected "https://app.example"'))).toEqual({
			ok: false,
			reason: "origin_mismatch",
			detail: "Unexpected authentication response origin …, expected …",
		});
		for (const message of ["Unexpected credential type attacker-text", "Error decoding authenticator extensions: attacker-text", "Unexpected response type: attacker-text"]) {
			const refused = refusalFromError(new Error(message));
			expect(refused, message).not.toHaveProperty("detail");
			expect(JSON.stringify(refused)).not.toContain("attacker-text");
		}
		expect(refusalFromError(new Error('Unexpected authentication response challenge "abc", expected "def"'))).toEqual({ ok: false, reason: "challenge_mismatch" });
	});
});
