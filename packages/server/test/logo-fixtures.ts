/** Small images for the logo tests (issue 15), each made outside Twofold (Python zlib, or well-known minimal files). */

/** A 1×1 RGBA PNG, made with Python's zlib (struct-packed chunks, zlib.crc32), not with the code under test. */
export function png1x1(): Buffer {
	return Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082", "hex");
}

export const GIF_1x1 = Buffer.from("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==", "base64");
export const JPEG_MIN = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xd9]);
/** A 1×1 lossless WebP (RIFF, size 26 + 8). */
export const WEBP_1x1 = Buffer.from("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==", "base64");
