import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { ImportItem, ImportProblem, ImportRecord, TokenFileReader } from "../../src/token-files/import-record.js";

/** Shared by the token-file reader tests: fixtures, byte streams cut into chunks, and oathtool as the reference. */

export const FIXTURES = new URL("../fixtures/token-files/", import.meta.url);

export function fixture(name: string): Uint8Array {
	return new Uint8Array(readFileSync(new URL(name, FIXTURES)));
}

/**
 * The bytes as a stream of small chunks, so every reader meets lines (and UTF-8 sequences, and CRLF pairs) cut across
 * chunk boundaries, as they arrive from a socket or a file stream.
 */
export async function* chunked(bytes: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
	for (let offset = 0; offset < bytes.length; offset += size) yield bytes.slice(offset, offset + size);
}

export function text(value: string): Uint8Array {
	return new TextEncoder().encode(value);
}

export async function readAll(items: AsyncIterable<ImportItem>): Promise<ImportItem[]> {
	const all: ImportItem[] = [];
	for await (const item of items) all.push(item);
	return all;
}

export const records = (items: ImportItem[]): ImportRecord[] => items.flatMap((item) => (item.kind === "record" ? [item.record] : []));
export const problems = (items: ImportItem[]): ImportProblem[] => items.flatMap((item) => (item.kind === "problem" ? [item.problem] : []));

export async function read(reader: TokenFileReader, bytes: Uint8Array, options: Parameters<TokenFileReader>[1] = {}): Promise<ImportItem[]> {
	return readAll(reader(chunked(bytes), options));
}

/** What a fixture's record is expected to be; the secret as hex. */
export interface Expected {
	userId: string;
	type: "totp" | "hotp";
	hex: string;
	algorithm: "SHA1" | "SHA256" | "SHA512";
	digits: number;
	period?: number;
	counter?: number;
	serial?: string;
	location: string;
}

/** A record reduced to what Expected states, the secret hex-encoded, so a whole fixture compares in one expect. */
export function summary(record: ImportRecord): Expected {
	const found: Expected = {
		userId: record.userId,
		type: record.type,
		hex: Buffer.from(record.secret).toString("hex"),
		algorithm: record.algorithm,
		digits: record.digits,
		location: record.location,
	};
	if (record.period !== undefined) found.period = record.period;
	if (record.counter !== undefined) found.counter = record.counter;
	if (record.serial !== undefined) found.serial = record.serial;
	return found;
}

/** oathtool (OATH Toolkit), an implementation we did not write: the TOTP code of a hex key at a Unix time. */
export function oathtoolTOTP(hex: string, options: { algorithm: string; digits: number; period: number; unixSeconds: number }): string {
	return execFileSync("oathtool", [`--totp=${options.algorithm}`, "-s", `${options.period}s`, "-d", String(options.digits), "-N", `@${options.unixSeconds}`, hex], { encoding: "utf8" }).trim();
}

/** oathtool's HOTP code of a hex key at a counter (RFC 4226; oathtool's HOTP is HMAC-SHA1). */
export function oathtoolHOTP(hex: string, options: { counter: number; digits: number }): string {
	return execFileSync("oathtool", ["--hotp", "-c", String(options.counter), "-d", String(options.digits), hex], { encoding: "utf8" }).trim();
}
