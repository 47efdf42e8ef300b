import { describe, expect, it } from "vitest";
import { maskEmailAddress } from "./masked-email.js";

describe("maskEmailAddress (issue 15: the prompt never shows an address in full)", () => {
	it("keeps the first character and the domain, hides the rest and its length", () => {
		expect(maskEmailAddress("alice@example.com")).toBe("a***@example.com");
		expect(maskEmailAddress("a@example.com")).toBe("a***@example.com");
		expect(maskEmailAddress("bob.smith+2fa@mail.example.org")).toBe("b***@mail.example.org");
		expect(maskEmailAddress("alexander@example.com")).toBe(maskEmailAddress("al@example.com"));
	});

	it("a quoted local part with @ in it: the domain is what follows the last @", () => {
		expect(maskEmailAddress('"x@y"@example.com')).toBe('"***@example.com');
	});

	it("a first character outside the BMP stays whole; something that is no address shows nothing of itself", () => {
		expect(maskEmailAddress("😀mail@example.com")).toBe("😀***@example.com");
		for (const odd of ["", "@example.com", "alice@", "alice"]) expect(maskEmailAddress(odd)).toBe("***");
	});
});
