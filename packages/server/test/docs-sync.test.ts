import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../src/services/events.js";
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
		expect(documented).toEqual(new Set(EVENT_TYPES));
	});
});
