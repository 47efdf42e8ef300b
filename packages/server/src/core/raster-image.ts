/**
 * The raster formats a logo may be (issue 15), recognized by their bytes, never by a name or a declared type alone.
 * SVG is not among them: it is a document that can carry script. Each check also looks at the format's structure
 * (PNG: every chunk's length and CRC up to an IEND that ends the file), so an image header followed by something
 * else (HTML, a script) is refused, not stored; what is served still goes out with nosniff and a sandbox CSP.
 */
export const RASTER_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"] as const;
export type RasterType = (typeof RASTER_TYPES)[number];

export function isRasterType(value: string): value is RasterType {
	return (RASTER_TYPES as readonly string[]).includes(value);
}

/** The raster type these bytes are a well-formed image of, or null. */
export function rasterImageType(bytes: Uint8Array): RasterType | null {
	if (isPNG(bytes)) return "image/png";
	if (isJPEG(bytes)) return "image/jpeg";
	if (isWebP(bytes)) return "image/webp";
	if (isGIF(bytes)) return "image/gif";
	return null;
}

const startsWith = (bytes: Uint8Array, prefix: readonly number[], at = 0): boolean => prefix.every((byte, index) => bytes[at + index] === byte);
const ascii = (text: string): number[] => [...text].map((char) => char.charCodeAt(0));

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** PNG (RFC 2083 / ISO 15948): the signature, IHDR first, every chunk whole with a correct CRC, and IEND last, at the very end. */
function isPNG(bytes: Uint8Array): boolean {
	if (!startsWith(bytes, PNG_SIGNATURE)) return false;
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	let offset = PNG_SIGNATURE.length;
	let first = true;
	while (offset + 12 <= bytes.length) {
		const length = view.getUint32(offset);
		const typeStart = offset + 4;
		const dataEnd = typeStart + 4 + length;
		if (length > 0x7fffffff || dataEnd + 4 > bytes.length) return false;
		const type = String.fromCharCode(...bytes.subarray(typeStart, typeStart + 4));
		if (!/^[A-Za-z]{4}$/.test(type)) return false;
		if (first && (type !== "IHDR" || length !== 13)) return false;
		first = false;
		if (crc32(bytes.subarray(typeStart, dataEnd)) !== view.getUint32(dataEnd)) return false;
		offset = dataEnd + 4;
		if (type === "IEND") return offset === bytes.length;
	}
	return false;
}

/** JPEG (ITU T.81): SOI and a marker at the start, EOI at the end. */
function isJPEG(bytes: Uint8Array): boolean {
	return bytes.length >= 4 && startsWith(bytes, [0xff, 0xd8, 0xff]) && bytes[bytes.length - 2] === 0xff && bytes[bytes.length - 1] === 0xd9;
}

/** WebP: a RIFF container whose declared size is the file's, of form WEBP, with a VP8, VP8L or VP8X first chunk. */
function isWebP(bytes: Uint8Array): boolean {
	if (bytes.length < 20 || !startsWith(bytes, ascii("RIFF")) || !startsWith(bytes, ascii("WEBP"), 8)) return false;
	const size = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
	if (size + 8 !== bytes.length) return false;
	return ["VP8 ", "VP8L", "VP8X"].some((fourcc) => startsWith(bytes, ascii(fourcc), 12));
}

/** GIF87a or GIF89a, ending with the trailer byte 0x3B. */
function isGIF(bytes: Uint8Array): boolean {
	return bytes.length >= 14 && (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a"))) && bytes[bytes.length - 1] === 0x3b;
}

const CRC_TABLE = (() => {
	const table = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		table[n] = c >>> 0;
	}
	return table;
})();

/** CRC-32 as PNG defines it (ISO 3309, as in zlib), over a chunk's type and data. */
function crc32(bytes: Uint8Array): number {
	let crc = 0xffffffff;
	for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
	return (crc ^ 0xffffffff) >>> 0;
}
