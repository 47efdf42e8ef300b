import { TokenFileError } from "./import-record.js";

/** One line of a text token file: its 1-based number (for the report's locations) and its text, without the line end. */
export interface TextLine {
	number: number;
	text: string;
}

/**
 * The longest line a text format may hold. An otpauth URI, a CSV row or a YAML line of any real export is well under
 * 1 KiB; the bound is what keeps a file with no line ends (or a hostile 10 MB line) from being buffered whole.
 */
export const MAX_LINE_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * Splits a stream of bytes into lines, as they arrive: LF or CRLF ends, a UTF-8 byte order mark at the start
 * dropped, each line decoded as strict UTF-8 (a byte sequence that is not UTF-8 is a file fault naming the line,
 * never replaced by U+FFFD: a secret or a user id silently altered would import the wrong thing).
 *
 * Memory stays bounded by one line: bytes are split on LF before decoding (LF never occurs inside a UTF-8 multi-byte
 * sequence), and a line that grows past `maxLineBytes` is refused ("line_too_long") as soon as it does, without
 * reading the rest of it.
 */
export async function* readLines(input: AsyncIterable<Uint8Array>, options: { maxLineBytes?: number } = {}): AsyncGenerator<TextLine, void, undefined> {
	const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
	const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
	let parts: Uint8Array[] = [];
	let length = 0;
	let number = 1;
	let atStart = true;

	const take = (): TextLine => {
		let bytes = parts.length === 1 ? parts[0]! : concat(parts, length);
		parts = [];
		length = 0;
		if (atStart) {
			atStart = false;
			if (startsWithBOM(bytes)) bytes = bytes.subarray(UTF8_BOM.length);
		}
		if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
		let text: string;
		try {
			text = decoder.decode(bytes);
		} catch {
			throw new TokenFileError("invalid_encoding", `line ${number} is not valid UTF-8: save the file as UTF-8`, `line ${number}`);
		}
		return { number: number++, text };
	};

	const keep = (piece: Uint8Array): void => {
		if (piece.length === 0) return;
		if (length + piece.length > maxLineBytes) {
			throw new TokenFileError("line_too_long", `line ${number} is longer than ${maxLineBytes} bytes`, `line ${number}`);
		}
		// A copy: the caller may reuse its chunk's buffer once we ask for the next one.
		parts.push(piece.slice());
		length += piece.length;
	};

	for await (const chunk of input) {
		let start = 0;
		while (start < chunk.length) {
			const end = chunk.indexOf(LF, start);
			if (end === -1) {
				keep(chunk.subarray(start));
				break;
			}
			keep(chunk.subarray(start, end));
			yield take();
			start = end + 1;
		}
	}
	if (length > 0) yield take();
}

function startsWithBOM(bytes: Uint8Array): boolean {
	return bytes.length >= 3 && bytes[0] === UTF8_BOM[0] && bytes[1] === UTF8_BOM[1] && bytes[2] === UTF8_BOM[2];
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
	const joined = new Uint8Array(length);
	let offset = 0;
	for (const part of parts) {
		joined.set(part, offset);
		offset += part.length;
	}
	return joined;
}
