import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { GIF_1x1, JPEG_MIN, png1x1, pngChunk, WEBP_1x1 } from "./logo-fixtures.js";
import { isRasterType, rasterImageType } from "../src/core/raster-image.js";

const PNG_SIGNATURE = png1x1().subarray(0, 8);
const IHDR_2x2 = Buffer.from("00000002000000020802000000", "hex");
const IDAT_2x2 = deflateSync(Buffer.from([0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 0]));

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
		corrupt[20]! ^= 0xff; // inside IHDR's data: its CRC no longer matches
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
		const image = Buffer.concat([PNG_SIGNATURE, pngChunk("IHDR", IHDR_2x2), pngChunk("IDAT", IDAT_2x2), pngChunk("IEND", Buffer.alloc(0))]);
		expect(rasterImageType(image)).toBe("image/png");
	});
});

// Issue 20 (mutation testing): each format's structural checks one by one, with the smallest inputs that pass or fail them.
describe("rasterImageType: every structural check counts", () => {
	it("refuses a PNG whose signature differs in any one byte", () => {
		for (let index = 0; index < 8; index++) {
			const image = png1x1();
			image[index]! ^= 0x01;
			expect(rasterImageType(image), `signature byte ${index}`).toBeNull();
		}
	});

	it("refuses a PNG cut anywhere, without throwing", () => {
		const image = png1x1();
		for (let length = 0; length < image.length; length++) expect(rasterImageType(image.subarray(0, length)), `${length} bytes`).toBeNull();
	});

	it("needs IHDR first, 13 bytes long, and chunk types of four letters (all with correct CRCs)", () => {
		const iend = pngChunk("IEND", Buffer.alloc(0));
		const png = (...chunks: Buffer[]) => Buffer.concat([PNG_SIGNATURE, ...chunks, iend]);
		expect(rasterImageType(png(pngChunk("IHDR", IHDR_2x2), pngChunk("IDAT", IDAT_2x2)))).toBe("image/png");
		expect(rasterImageType(png(pngChunk("IDAT", IDAT_2x2), pngChunk("IHDR", IHDR_2x2)))).toBeNull();
		// Another chunk first, even one of IHDR's length.
		expect(rasterImageType(png(pngChunk("tEXt", Buffer.alloc(13, 0x41)), pngChunk("IHDR", IHDR_2x2), pngChunk("IDAT", IDAT_2x2)))).toBeNull();
		expect(rasterImageType(png(pngChunk("IHDR", IHDR_2x2.subarray(0, 12)), pngChunk("IDAT", IDAT_2x2)))).toBeNull();
		expect(rasterImageType(png(pngChunk("IHDR", Buffer.concat([IHDR_2x2, Buffer.alloc(1)])), pngChunk("IDAT", IDAT_2x2)))).toBeNull();
		for (const type of ["tEX1", "tE t", "<scr"]) expect(rasterImageType(png(pngChunk("IHDR", IHDR_2x2), pngChunk(type, Buffer.from("x")), pngChunk("IDAT", IDAT_2x2))), type).toBeNull();
		expect(rasterImageType(png(pngChunk("IHDR", IHDR_2x2), pngChunk("tEXt", Buffer.from("x")), pngChunk("IDAT", IDAT_2x2)))).toBe("image/png");
	});

	it("JPEG: needs SOI and a marker at the start and EOI at the very end; SOI then EOI, 4 bytes, is the shortest shape", () => {
		expect(rasterImageType(Buffer.from([0xff, 0xd8, 0xff, 0xd9]))).toBe("image/jpeg");
		expect(rasterImageType(Buffer.from([0xff, 0xd8, 0xd9]))).toBeNull();
		for (const index of [0, 1, 2]) {
			const image = Buffer.from(JPEG_MIN);
			image[index] = 0x00;
			expect(rasterImageType(image), `start byte ${index}`).toBeNull();
		}
		expect(rasterImageType(Buffer.concat([JPEG_MIN.subarray(0, -2), Buffer.from([0x00, 0xd9])]))).toBeNull();
		expect(rasterImageType(Buffer.concat([JPEG_MIN, Buffer.from([0xff, 0xd8])]))).toBeNull();
		// A script that ends with EOI's bytes is not a JPEG.
		expect(rasterImageType(Buffer.concat([Buffer.from("<script>alert(1)</script>"), Buffer.from([0xff, 0xd9])]))).toBeNull();
	});

	it("WebP: a RIFF container of form WEBP with room for a chunk header (20 bytes) whose first chunk is VP8, VP8L or VP8X", () => {
		const webp = (form: string, fourcc: string, payload = 0) => {
			const riff = Buffer.alloc(20 + payload);
			riff.write("RIFF", 0, "latin1");
			riff.writeUInt32LE(riff.length - 8, 4);
			riff.write(form, 8, "latin1");
			riff.write(fourcc, 12, "latin1");
			riff.writeUInt32LE(payload, 16);
			return riff;
		};
		for (const fourcc of ["VP8 ", "VP8L", "VP8X"]) expect(rasterImageType(webp("WEBP", fourcc)), fourcc).toBe("image/webp");
		for (const fourcc of ["VP9 ", "ALPH", "vp8l"]) expect(rasterImageType(webp("WEBP", fourcc)), fourcc).toBeNull();
		expect(rasterImageType(webp("WAVE", "VP8L"))).toBeNull();
		const rifx = webp("WEBP", "VP8L");
		rifx.write("RIFX", 0, "latin1");
		expect(rasterImageType(rifx)).toBeNull();
		// A header with no room for a chunk header, though its declared size fits.
		const short = webp("WEBP", "VP8L").subarray(0, 16);
		short.writeUInt32LE(8, 4);
		expect(rasterImageType(short)).toBeNull();
	});

	it("GIF: GIF87a or GIF89a, a logical screen descriptor (14 bytes at least) and the trailer", () => {
		const gif = (version: string, body: number) => Buffer.concat([Buffer.from(version, "latin1"), Buffer.alloc(body), Buffer.from(";")]);
		expect(rasterImageType(gif("GIF87a", 7))).toBe("image/gif");
		expect(rasterImageType(gif("GIF89a", 7))).toBe("image/gif");
		expect(rasterImageType(gif("GIF89a", 6))).toBeNull();
		expect(rasterImageType(gif("GIF88a", 7))).toBeNull();
		// Script ending in ";" is not a GIF.
		expect(rasterImageType(Buffer.from("alert(document.domain);"))).toBeNull();
	});

	it("isRasterType: the four formats' media types and nothing else", () => {
		for (const type of ["image/png", "image/jpeg", "image/webp", "image/gif"]) expect(isRasterType(type), type).toBe(true);
		for (const type of ["image/svg+xml", "text/html", "image/PNG", ""]) expect(isRasterType(type), type).toBe(false);
	});
});
