import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { importCycles, importGraph } from "./import-graph.js";

const src = new URL("../src/", import.meta.url).pathname;
const graph = importGraph(src);
/** Source files without the tests beside them, for the text rules below. */
const sources = graph.files.filter((file) => !file.endsWith(".test.ts"));
const text = (file: string): string => readFileSync(src + file, "utf8");

/** The files directly in src/: the configuration and the wiring (app.ts, main.ts, config.ts, master-key.ts, …). */
const WIRING = "(src root)";
const INFRASTRUCTURE = ["clock", "mail", "rate-counters", "webhook-delivery"];
const ANYTHING = "*";

/**
 * The layers (docs/architecture.md), lowest first: what each folder of src may import besides its own files.
 * An entry is a folder, or a file (path under src); `types` are allowed through `import type` only. A folder
 * missing from this table fails the test: a new folder is given its layer here first.
 */
const LAYERS: Record<string, { may: readonly string[]; types?: readonly string[] }> = {
	core: { may: [] },
	contract: { may: ["core"] },
	store: { may: ["core"] },
	factors: { may: ["core", "contract"], types: ["store/store.ts", "store/tables.ts"] },
	// Token-file readers and writers (issue 17): pure streaming parsers of other systems' exports, no store, no I/O of their own.
	"token-files": { may: ["core", "contract"] },
	clock: { may: ["core", "contract", "store", ...INFRASTRUCTURE] },
	mail: { may: ["core", "contract", "store", ...INFRASTRUCTURE] },
	"rate-counters": { may: ["core", "contract", "store", ...INFRASTRUCTURE] },
	"webhook-delivery": { may: ["core", "contract", "store", ...INFRASTRUCTURE] },
	services: { may: ["core", "contract", "store", "factors", "token-files", ...INFRASTRUCTURE] },
	// The prompt's OpenID Connect machinery (issue 15): oidc-provider wired over the services and the store.
	oidc: { may: ["services", "contract", "core", "store", ...INFRASTRUCTURE] },
	// The prompt's pages (issue 15): pure functions of plain data to HTML, and their locale catalogs.
	pages: { may: ["core", "contract"], types: ["services", "oidc", "store/tables.ts", "factors"] },
	http: { may: ["services", "contract", "core", "oidc", "pages", ...INFRASTRUCTURE] },
	cli: { may: [ANYTHING] },
	[WIRING]: { may: [ANYTHING] },
};

/**
 * Known violations of the layers, and cycles: none since the ProofKind restructure (issue 14, ADR 0007) moved
 * the factor kinds into factors/<kind>/. An entry here must name an edge that still occurs (else the test
 * fails), with the reason it is tolerated.
 */
const KNOWN_VIOLATIONS: Record<string, string> = {};
const KNOWN_CYCLES: Record<string, string> = {};

/** Dynamic imports whose name is computed, so the graph cannot follow them: each must load nothing under src. */
const COMPUTED_IMPORTS: Record<string, string> = {
	"factors/webauthn/attestation.ts: import() of a computed name": "a module inside @simplewebauthn/server (its fetch hook), resolved from the package",
};

const layerOf = (file: string): string => (file.includes("/") ? file.slice(0, file.indexOf("/")) : WIRING);
const matches = (entry: string, file: string): boolean => entry === ANYTHING || entry === file || entry === layerOf(file);

function allowed(from: string, to: string, typeOnly: boolean): boolean {
	const layer = LAYERS[layerOf(from)];
	if (layer === undefined) return false;
	if (layerOf(from) === layerOf(to)) return true;
	return layer.may.some((entry) => matches(entry, to)) || (typeOnly && (layer.types ?? []).some((entry) => matches(entry, to)));
}

describe("architecture rules", () => {
	it("the import graph is complete: every relative import names a file, no import() of a computed name", () => {
		expect(graph.files.length).toBeGreaterThan(100);
		expect(graph.edges.length).toBeGreaterThan(300);
		expect(graph.unresolved.filter((entry) => COMPUTED_IMPORTS[entry] === undefined)).toEqual([]);
		expect(Object.keys(COMPUTED_IMPORTS).filter((entry) => !graph.unresolved.includes(entry)), "COMPUTED_IMPORTS entries that no longer occur: delete them").toEqual([]);
	});

	it("every folder of src has a layer in LAYERS", () => {
		const folders = [...new Set(graph.files.map(layerOf))].filter((layer) => LAYERS[layer] === undefined);
		expect(folders, "add each to LAYERS in test/architecture.test.ts and to docs/architecture.md").toEqual([]);
	});

	it("each import follows the layers, lowest first: core, contract, store, factors, infrastructure, services, http, then cli and the wiring", () => {
		const violations = [...new Set(graph.edges.filter((edge) => !allowed(edge.from, edge.to, edge.typeOnly)).map((edge) => `${edge.from} → ${edge.to}`))];
		const unexpected = violations.filter((edge) => KNOWN_VIOLATIONS[edge] === undefined);
		const stale = Object.keys(KNOWN_VIOLATIONS).filter((edge) => !violations.includes(edge));
		expect(unexpected, "imports against LAYERS (importer → imported)").toEqual([]);
		expect(stale, "KNOWN_VIOLATIONS entries that no longer occur: delete them").toEqual([]);
	});

	it("no import cycle among src files, type-only imports included", () => {
		const cycles = importCycles(graph.edges);
		const key = (files: readonly string[]): string => files.join(" ↔ ");
		const unexpected = cycles.filter(({ files }) => KNOWN_CYCLES[key(files)] === undefined).map(({ cycle }) => cycle.join(" → "));
		const stale = Object.keys(KNOWN_CYCLES).filter((known) => !cycles.some(({ files }) => key(files) === known));
		expect(unexpected, "import cycles").toEqual([]);
		expect(stale, "KNOWN_CYCLES entries that no longer occur: delete them").toEqual([]);
	});

	it("core is pure: no I/O, framework, store or clock imports", () => {
		const forbidden = /^(node:(fs|net|http|https|child_process|dgram|dns|os|process)|fastify|kysely|pg|better-sqlite3|ioredis|nodemailer)/;
		for (const file of sources.filter((file) => layerOf(file) === "core")) {
			for (const target of graph.packages.get(file)!) expect(target, `${file} imports ${target}`).not.toMatch(forbidden);
			expect(text(file), file).not.toMatch(/Date\.now\(|new Date\(|process\.env|Math\.random/);
		}
	});

	it("services know nothing of HTTP; only main.ts reads process.env (STYLE §10.7)", () => {
		for (const file of sources.filter((file) => layerOf(file) === "services")) {
			for (const target of graph.packages.get(file)!) expect(target, file).not.toMatch(/fastify/);
		}
		for (const file of sources) {
			if (file === "main.ts") continue;
			expect(text(file), file).not.toMatch(/process\.env/);
		}
	});

	it("secrets come only from the CSPRNG (R-OTP-5): no Math.random anywhere in src", () => {
		for (const file of sources) expect(text(file), file).not.toContain("Math.random");
	});

	it("no factor or proof kind is declared \"as const satisfies\": Stryker mutates nothing inside an `as` expression (issue 20)", () => {
		// stryker-js #6208: the instrumenter skips the whole subtree of a TypeScript `as`, so a kind declared
		// `{ … } as const satisfies ProofKind` had none of its claim or evaluate mutated; `satisfies` alone keeps the types.
		const offenders = sources.filter((file) => file.startsWith("factors/") && /\bas const satisfies\b/.test(text(file)));
		expect(offenders).toEqual([]);
	});

	it("no utils or helpers grab-bags under src", () => {
		for (const file of graph.files) expect(file).not.toMatch(/(^|\/)(utils|helpers)\.ts$/);
	});

	it("secret comparisons go through constantTimeEqual: no === on codes, hashes or MACs in core (R-OTP-10)", () => {
		for (const file of sources.filter((file) => layerOf(file) === "core")) {
			expect(text(file), file).not.toMatch(/(code|hash|mac|secret|expected)\s*===|===\s*(code|hash|mac|secret|expected)\b|\.equals\(/i);
		}
	});
});
