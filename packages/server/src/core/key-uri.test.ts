import { describe, expect, it } from "vitest";
import { createHOTPKeyURI, createTOTPKeyURI } from "./key-uri.js";

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

describe("otpauth URI secret (Key Uri Format: padding omitted)", () => {
	it("drops every trailing \"=\" of a padded secret", () => {
		const secretOf = (secretBase32: string) => new URL(createTOTPKeyURI({ issuer: "Acme", accountName: "a", secretBase32, algorithm: "SHA1", digits: 6, periodInSeconds: 30 })).searchParams.get("secret");
		expect(secretOf("MZXW6===")).toBe("MZXW6");
		expect(secretOf("MZXW6YQ=")).toBe("MZXW6YQ");
		expect(secretOf("MZXW6YTB")).toBe("MZXW6YTB");
	});
});

describe("otpauth URI for HOTP (Key Uri Format, RFC 4226)", () => {
	it("is hotp with the counter in place of the period", () => {
		const uri = createHOTPKeyURI({ issuer: "Acme Co", accountName: "user 42", secretBase32: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", algorithm: "SHA1", digits: 6, counter: 9007199254740991 });
		expect(uri).toBe("otpauth://hotp/Acme%20Co:user%2042?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Co&algorithm=SHA1&digits=6&counter=9007199254740991");
	});
});
