import { describe, expect, it } from "vitest";
import type { ProofInput } from "./proof-kind.js";
import { claimProof, FACTOR_KINDS, PROOF_KINDS } from "./registry.js";

const methods = (input: ProofInput): string[] | "malformed" => {
	const claimed = claimProof(input);
	return claimed === "malformed" ? claimed : claimed.map(({ kind }) => kind.method);
};

describe("the proof-kind registry (ADR 0007)", () => {
	it("dispatches each proof shape to its kind, and one proof per request (V-2)", () => {
		expect(methods({ code: "123456" })).toEqual(["totp", "hotp"]);
		expect(methods({ code: "12345678" })).toEqual(["totp", "hotp"]);
		expect(methods({ code: "abcd-efgh-jkmn-pqrs" }).length).toBe(1);
		expect(methods({ assertion: "a.b.c" })).toEqual(["assertion"]);
		expect(methods({ challenge_id: "chl_1", code: "123456" })).toEqual(["email"]);
		expect(methods({ challenge_id: "chl_1", credential: {} })).toEqual(["webauthn"]);
		// Malformed shapes are failed attempts (R-OTP-11, V-2): never a second chance, never a 400.
		for (const input of [
			{ assertion: "a.b.c", code: "123456" },
			{ assertion: "a.b.c", challenge_id: "chl_1" },
			{ assertion: "a.b.c", credential: {} },
			{ challenge_id: "chl_1", code: "12345" },
			{ challenge_id: "chl_1", credential: {}, code: "123456" },
			// A credential beside a typed code: WebAuthn's shape with one of its fields, refused, not tried as a code.
			{ credential: {}, code: "123456" },
			{ credential: {} },
			{ challenge_id: 7, credential: {} },
			{ code: 123456 },
			{ code: null },
			{ code: "١٢٣٤٥٦" },
			{ code: " 123456" },
			{},
		] as ProofInput[]) {
			expect(methods(input), JSON.stringify(input)).toBe("malformed");
		}
	});

	it("asks a kind to claim only when one of its fields is present: its claim refuses every input without them", () => {
		const values: unknown[] = [undefined, "123456", "abcd-efgh-jkmn-pqrs", "chl_1", {}, null, 7];
		const fields = ["code", "challenge_id", "credential", "assertion"] as const;
		for (const kind of PROOF_KINDS) {
			const others = fields.filter((field) => !kind.fields.includes(field));
			for (const a of values) {
				for (const b of values) {
					const input: Record<string, unknown> = {};
					if (others[0] !== undefined) input[others[0]] = a;
					if (others[1] !== undefined) input[others[1]] = b;
					expect(kind.claim(input as ProofInput), `${kind.method} ${JSON.stringify(input)}`).toBeUndefined();
				}
			}
		}
	});

	it("every factor type has a lifecycle and a kind that proves with it", () => {
		for (const [type, factor] of Object.entries(FACTOR_KINDS)) {
			expect(factor.type).toBe(type);
			expect(PROOF_KINDS.some((kind) => kind.method === type)).toBe(true);
		}
	});
});
