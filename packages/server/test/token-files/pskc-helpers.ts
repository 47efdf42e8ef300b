import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { IN_CI } from "../helpers.js";

/** Shared by the PSKC reader's tests (pskc-*.test.ts): fixtures, chunked input, and the Debian tools. */

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "token-files");

export function fixture(name: string): Buffer {
	return readFileSync(join(FIXTURES, name));
}

/** The bytes as a stream of chunks of `size` bytes, so element boundaries fall inside chunks as they do on a socket. */
export async function* chunks(bytes: Uint8Array | string, size = 97): AsyncGenerator<Uint8Array> {
	const buffer = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
	for (let offset = 0; offset < buffer.byteLength; offset += size) yield buffer.subarray(offset, offset + size);
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
	const all: T[] = [];
	for await (const item of items) all.push(item);
	return all;
}

/** The TokenFileError (or other error) an async iteration ends with; fails the test when it ends normally. */
export async function failureOf(items: AsyncIterable<unknown>): Promise<{ error: { code?: string; reason?: string; location?: string; message: string }; seen: number }> {
	let seen = 0;
	try {
		for await (const _ of items) seen++;
	} catch (error) {
		return { error: error as { code?: string; message: string }, seen };
	}
	throw new Error(`expected the reader to fail, it yielded ${seen} items and ended`);
}

export const PYTHON = "/usr/bin/python3";
export const HAS_PYTHON_PSKC = spawnSync(PYTHON, ["-c", "import pskc"]).status === 0;
export const HAS_OATHTOOL = spawnSync("oathtool", ["--version"]).status === 0;
if (!HAS_PYTHON_PSKC && IN_CI) throw new Error("python3-pskc is required under CI=true (Debian package python3-pskc)");
if (!HAS_OATHTOOL && IN_CI) throw new Error("oathtool is required under CI=true (Debian package oathtool)");

/** A code from oathtool, the authenticator of record, for a raw secret. */
export function oathtoolCode(options: { type: "hotp" | "totp"; secret: Uint8Array; digits: number; algorithm?: string; counter?: number; period?: number; atSeconds?: number }): string {
	const args = [`-d`, String(options.digits)];
	if (options.type === "hotp") {
		// oathtool's HOTP is HMAC-SHA1 only.
		if (options.algorithm !== undefined && options.algorithm !== "SHA1") throw new Error("oathtool computes HOTP with SHA1 only");
		args.unshift("--hotp");
		args.push("-c", String(options.counter ?? 0));
	} else {
		args.unshift(`--totp=${options.algorithm ?? "SHA1"}`);
		args.push("-s", `${options.period ?? 30}s`, "--now", `@${options.atSeconds ?? 0}`);
	}
	args.push(Buffer.from(options.secret).toString("hex"));
	return execFileSync("oathtool", args, { encoding: "utf8" }).trim();
}
