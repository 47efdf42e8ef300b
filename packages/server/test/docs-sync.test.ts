import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../src/services/events.js";
import { ERROR_CODES } from "../src/contract/errors.js";
import { buildTestApp, type TestApp } from "./helpers.js";

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

/** The README's fenced code blocks (with their info string) and the rest of its text, where inline code lives. */
function readmeParts(): { blocks: { info: string; body: string; line: number }[]; prose: string } {
	const lines = readFileSync(new URL("README.md", root), "utf8").split("\n");
	const blocks: { info: string; body: string; line: number }[] = [];
	const prose: string[] = [];
	let open: { info: string; body: string[]; line: number } | undefined;
	lines.forEach((line, index) => {
		const fence = /^```(.*)$/.exec(line);
		if (fence !== null && open === undefined) open = { info: fence[1]!.trim(), body: [], line: index + 1 };
		else if (fence !== null && open !== undefined) {
			blocks.push({ info: open.info, body: open.body.join("\n"), line: open.line });
			open = undefined;
		} else if (open !== undefined) open.body.push(line);
		else prose.push(line);
	});
	return { blocks, prose: prose.join("\n") };
}

/**
 * Every API path the README shows in code, with its method when one precedes it: in fenced blocks
 * (curl lines: "$API/v1/users/u-1842/verify") and in inline code ("POST /v1/users/{user_id}/verify",
 * or "…/deliveries/{delivery_id}/retry", a path shortened to its end). A path inside a file path
 * ("/…/data/master.key") is not an API path.
 */
function readmePaths(): { method?: string; path: string; text: string }[] {
	const { blocks, prose } = readmeParts();
	const code = [...blocks.map((block) => block.body), ...[...prose.matchAll(/`([^`\n]+)`/g)].map((match) => match[1]!)];
	return code.flatMap((text) =>
		[...text.matchAll(/(?:\b(GET|POST|PATCH|PUT|DELETE)\s+)?((?:\/v1|(?<![\w/])…)\/[^\s"'`?,)]*)/g)]
			.map((match) => ({ ...(match[1] === undefined ? {} : { method: match[1] }), path: match[2]!.replace(/[.:;]+$/, ""), text }))
			.filter((found) => found.path.startsWith("/v1") || found.path.includes("/")),
	);
}

/** A README path matches a documented one: same literal segments, and a {name} exactly where the document has {name}. */
function matches(shown: string, documented: string): boolean {
	const shownSegments = shown.split("/");
	const documentedSegments = documented.split("/");
	const elided = shownSegments[0] === "…";
	const tail = elided ? documentedSegments.slice(documentedSegments.length - shownSegments.length + 1) : documentedSegments;
	const wanted = elided ? shownSegments.slice(1) : shownSegments;
	if (tail.length !== wanted.length) return false;
	return wanted.every((segment, index) => {
		const target = tail[index]!;
		if (target.startsWith("{")) return segment === target || (!segment.startsWith("{") && segment !== "");
		return segment === target;
	});
}

describe("the README's API paths and commands", () => {
	let t: TestApp;
	let spec: { paths: Record<string, Record<string, unknown>> };
	beforeAll(async () => {
		t = await buildTestApp();
		spec = (await t.call("GET", "/openapi.json", undefined, null)).json;
	});
	afterAll(() => t.close());

	it("every /v1 path in README code exists in the OpenAPI document, with its parameter names and method", () => {
		const found = readmePaths();
		expect(found.length).toBeGreaterThan(20);
		expect(found.some((entry) => entry.path.includes("/retry"))).toBe(true);
		const wrong = found
			.filter(({ method, path }) => {
				const documented = Object.keys(spec.paths).filter((candidate) => matches(path, candidate));
				if (documented.length === 0) return true;
				return method !== undefined && !documented.some((candidate) => method.toLowerCase() in spec.paths[candidate]!);
			})
			.map(({ method, path }) => `${method ?? ""} ${path}`.trim());
		expect(wrong).toEqual([]);
	});

	it("code blocks that use bash arrays are marked bash, not sh", () => {
		const { blocks } = readmeParts();
		const mislabeled = blocks.filter((block) => /\$\{\w+\[@\]\}|\w+=\(/.test(block.body) && block.info !== "bash").map((block) => `line ${block.line}: \`\`\`${block.info}`);
		expect(mislabeled).toEqual([]);
	});
});
