// The envelope's primitive, AES-256-GCM with a 96-bit IV, against Test Case 16 of McGrew & Viega,
// "The Galois/Counter Mode of Operation (GCM)" (the NIST-submitted test vectors), 60-byte plaintext with AAD.
import { createCipheriv, createDecipheriv } from "node:crypto";
import { describe, expect, it } from "vitest";

const KEY = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
const IV = "cafebabefacedbaddecaf888";
const PLAINTEXT =
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
const AAD = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const CIPHERTEXT =
	"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662";
const TAG = "76fc6ece0f4e1768cddf8853bb2d551b";

describe("AES-256-GCM known answer (GCM spec Test Case 16)", () => {
	it("encrypts to the published ciphertext and tag", () => {
		const cipher = createCipheriv("aes-256-gcm", Buffer.from(KEY, "hex"), Buffer.from(IV, "hex"));
		cipher.setAAD(Buffer.from(AAD, "hex"));
		const ciphertext = Buffer.concat([cipher.update(Buffer.from(PLAINTEXT, "hex")), cipher.final()]);
		expect(ciphertext.toString("hex")).toBe(CIPHERTEXT);
		expect(cipher.getAuthTag().toString("hex")).toBe(TAG);
	});

	it("decrypts, and refuses a wrong tag", () => {
		const decipher = createDecipheriv("aes-256-gcm", Buffer.from(KEY, "hex"), Buffer.from(IV, "hex"));
		decipher.setAAD(Buffer.from(AAD, "hex"));
		decipher.setAuthTag(Buffer.from(TAG, "hex"));
		expect(Buffer.concat([decipher.update(Buffer.from(CIPHERTEXT, "hex")), decipher.final()]).toString("hex")).toBe(PLAINTEXT);
		const bad = createDecipheriv("aes-256-gcm", Buffer.from(KEY, "hex"), Buffer.from(IV, "hex"));
		bad.setAAD(Buffer.from(AAD, "hex"));
		bad.setAuthTag(Buffer.alloc(16));
		bad.update(Buffer.from(CIPHERTEXT, "hex"));
		expect(() => bad.final()).toThrow();
	});
});
