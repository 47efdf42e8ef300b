import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const src = new URL("../src/", import.meta.url).pathname;

function sources(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
		entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [join(dir, entry.name)] : [],
	);
}

const imports = (file: string): string[] => [...readFileSync(file, "utf8").matchAll(/^import[^;]*?from "([^"]+)";/gms)].map((m) => m[1]!);

describe("architecture rules", () => {
	it("core is pure: no I/O, framework, store or clock imports", () => {
		const forbidden = /^(node:(fs|net|http|https|child_process|dgram|dns|os|process)|fastify|kysely|pg|better-sqlite3|\.\.\/(store|http|services|cli))/;
		for (const file of sources(join(src, "core"))) {
			for (const target of imports(file)) expect(target, `${file} imports ${target}`).not.toMatch(forbidden);
			const text = readFileSync(file, "utf8");
			expect(text, file).not.toMatch(/Date\.now\(|new Date\(|process\.env|Math\.random/);
		}
	});

	it("services know nothing of HTTP; only main.ts reads process.env (STYLE §10.7)", () => {
		for (const file of sources(join(src, "services"))) {
			for (const target of imports(file)) expect(target, file).not.toMatch(/fastify|\.\.\/http/);
		}
		for (const file of sources(src)) {
			if (file.endsWith("main.ts")) continue;
			expect(readFileSync(file, "utf8"), file).not.toMatch(/process\.env/);
		}
	});

	it("secrets come only from the CSPRNG (R-OTP-5): no Math.random anywhere in src", () => {
		for (const file of sources(src)) expect(readFileSync(file, "utf8"), file).not.toContain("Math.random");
	});

	it("no utils or helpers grab-bags under src", () => {
		for (const file of sources(src)) expect(file).not.toMatch(/\/(utils|helpers)\.ts$/);
	});

	it("secret comparisons go through constantTimeEqual: no === on codes, hashes or MACs in core (R-OTP-10)", () => {
		for (const file of sources(join(src, "core"))) {
			const text = readFileSync(file, "utf8");
			expect(text, file).not.toMatch(/(code|hash|mac|secret|expected)\s*===|===\s*(code|hash|mac|secret|expected)\b|\.equals\(/i);
		}
	});
});
