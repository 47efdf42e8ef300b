import { describe, expect, it } from "vitest";
import { createTOTPKeyURI } from "./key-uri.js";

describe("otpauth URI (Key Uri Format)", () => {
	it("labels issuer:account and carries every parameter", () => {
		const uri = createTOTPKeyURI({
			issuer: "Acme Co",
			accountName: "user 42",
			secretBase32: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
			algorithm: "SHA256",
			digits: 8,
			periodInSeconds: 60,
		});
		expect(uri).toBe(
			"otpauth://totp/Acme%20Co:user%2042?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Co&algorithm=SHA256&digits=8&period=60",
		);
	});
});
