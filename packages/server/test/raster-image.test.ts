import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { GIF_1x1, JPEG_MIN, png1x1, WEBP_1x1 } from "./logo-fixtures.js";
import { rasterImageType } from "../src/core/raster-image.js";

describe("rasterImageType: the logo formats by their bytes (issue 15)", () => {
	it("recognizes well-formed PNG, GIF, JPEG and WebP", () => {
		expect(rasterImageType(png1x1())).toBe("image/png");
		expect(rasterImageType(GIF_1x1)).toBe("image/gif");
		expect(rasterImageType(JPEG_MIN)).toBe("image/jpeg");
		expect(rasterImageType(WEBP_1x1)).toBe("image/webp");
	});

	it("refuses SVG, HTML and empty input", () => {
		expect(rasterImageType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'))).toBeNull();
		expect(rasterImageType(Buffer.from("<!doctype html><script>alert(1)</script>"))).toBeNull();
		expect(rasterImageType(new Uint8Array(0))).toBeNull();
	});

	it("refuses a PNG header followed by HTML, anything after IEND, and a chunk with a wrong CRC", () => {
		const html = Buffer.from("<html><script>alert(document.domain)</script></html>");
		expect(rasterImageType(Buffer.concat([png1x1().subarray(0, 33), html]))).toBeNull();
		expect(rasterImageType(Buffer.concat([png1x1(), html]))).toBeNull();
		const corrupt = Buffer.from(png1x1());
		corrupt[20] ^= 0xff; // inside IHDR's data: its CRC no longer matches
		expect(rasterImageType(corrupt)).toBeNull();
		// The signature alone is not an image.
		expect(rasterImageType(png1x1().subarray(0, 8))).toBeNull();
	});

	it("refuses a GIF, JPEG or WebP whose end or declared size does not fit", () => {
		expect(rasterImageType(Buffer.concat([GIF_1x1, Buffer.from("<script>")]))).toBeNull();
		expect(rasterImageType(Buffer.concat([JPEG_MIN, Buffer.from("<script>")]))).toBeNull();
		expect(rasterImageType(Buffer.concat([WEBP_1x1, Buffer.from("<script>")]))).toBeNull();
	});

	it("checks PNG CRCs as zlib computes them (a PNG made with another IDAT is still recognized)", () => {
		// Build a second valid PNG with a different IDAT, computing CRCs with a plain reference implementation.
		const crc = (data: Buffer): number => {
			let c = ~0;
			for (const byte of data) {
				c ^= byte;
				for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
			}
			return ~c >>> 0;
		};
		const chunk = (type: string, data: Buffer) => {
			const length = Buffer.alloc(4);
			length.writeUInt32BE(data.length);
			const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
			const sum = Buffer.alloc(4);
			sum.writeUInt32BE(crc(body));
			return Buffer.concat([length, body, sum]);
		};
		const ihdr = Buffer.from("00000002000000020802000000", "hex");
		const idat = deflateSync(Buffer.from([0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 0]));
		const image = Buffer.concat([png1x1().subarray(0, 8), chunk("IHDR", ihdr), chunk("IDAT", idat), chunk("IEND", Buffer.alloc(0))]);
		expect(rasterImageType(image)).toBe("image/png");
	});
});
