import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../src/config.js";
import { hasTool } from "./e2e/process.js";

const deploy = (name: string) => new URL(`../../../deploy/${name}`, import.meta.url).pathname;
const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");

/**
 * The deployment files (docs/deploy.md) are not run in CI (no container
 * registry here), so what can be checked without running them is: every
 * TWOFOLD_* setting they pass is one the README documents and the service
 * accepts, and the systemd unit is valid.
 */
describe("deployment files", () => {
	const compose = parse(readFileSync(deploy("compose.yaml"), "utf8")) as { services: Record<string, { environment?: Record<string, string>; command?: string[] }> };

	it("compose: three nodes whose environment the configuration loader accepts, behind trusted nginx", () => {
		const nodes = Object.entries(compose.services).filter(([name]) => /^twofold-\d$/.test(name));
		expect(nodes).toHaveLength(3);
		for (const [, node] of nodes) {
			const config = loadConfig(node.environment!, "/app");
			expect(config.databaseURL).toMatch(/^postgres:\/\//);
			expect(config.redisURL).toBe("redis://redis:6379");
			expect(config.trustedProxies).toEqual(["172.28.0.0/16"]);
			expect(config.masterKey).toEqual({ source: "file", path: "/run/secrets/twofold_master_key" });
		}
		expect(compose.services.postgres!.command).toContain("synchronous_commit=on");
	});

	it("every TWOFOLD_* variable in the deployment files is documented in the README", () => {
		const used = new Set<string>();
		for (const file of ["compose.yaml", "twofold.service", "Dockerfile"]) {
			for (const match of readFileSync(deploy(file), "utf8").matchAll(/TWOFOLD_[A-Z_]+/g)) used.add(match[0]);
		}
		for (const name of used) expect(readme, name).toContain(`\`${name}\``);
	});

	it("every TWOFOLD_* variable the configuration loader reads is documented in the README", () => {
		const loader = readFileSync(new URL("../src/config.ts", import.meta.url), "utf8");
		const names = new Set([...loader.matchAll(/"(TWOFOLD_[A-Z_]+)"/g)].map((match) => match[1]!));
		expect(names).toContain("TWOFOLD_MAX_CONNECTIONS");
		for (const name of names) expect(readme, name).toContain(`\`${name}\``);
	});

	it.skipIf(!hasTool("systemd-analyze", "systemd"))("the systemd unit passes systemd-analyze verify", () => {
		const result = spawnSync("systemd-analyze", ["verify", deploy("twofold.service")], { encoding: "utf8" });
		expect(result.status, result.stderr).toBe(0);
		expect(result.stderr.trim()).toBe("");
	});
});
