import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../src/contract/errors.js";

const root = new URL("../../../", import.meta.url);

function tableRows(file: string): string[][] {
	return readFileSync(new URL(file, root), "utf8")
		.split("\n")
		.filter((line) => /^\| `[a-z_.]+` \|/.test(line))
		.map((line) => line.split("|").map((cell) => cell.trim().replace(/`/g, "")).slice(1, -1));
}

describe("documentation stays in sync with the code (Fastify's errors test)", () => {
	it("docs/errors.md lists every catalog code with its status, and nothing else", () => {
		const rows = tableRows("docs/errors.md");
		expect(Object.fromEntries(rows.map(([code, status]) => [code, Number(status)]))).toEqual(
			Object.fromEntries(Object.entries(ERROR_CODES).map(([code, entry]) => [code, entry.status])),
		);
	});

	it("docs/events.md lists every event type the services emit", () => {
		const documented = new Set(tableRows("docs/events.md").map(([type]) => type));
		const source = readFileSync(new URL("packages/server/src/services/events.ts", root), "utf8");
		const union = source.slice(source.indexOf("export type EventType"), source.indexOf(";", source.indexOf("export type EventType")));
		const declared = new Set([...union.matchAll(/"([a-z_.]+)"/g)].map((m) => m[1]));
		expect(documented).toEqual(declared);
	});
});
