// The import bench's measurements: the peak RSS it reports is the measured process's (through /usr/bin/time -v), so a
// process that touches 120 MB is reported above 120 MB and one that touches little well below it.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { IN_CI } from "../packages/server/test/helpers.js";
// @ts-expect-error: a plain .mjs bench module without type declarations
import { machineLoad, parseTimeReport } from "./import-load.mjs";

const TIME = existsSync("/usr/bin/time");
if (!TIME && IN_CI) throw new Error("/usr/bin/time is required under CI=true (Debian package time)");
if (!TIME) console.warn("[skip] /usr/bin/time not installed: apt-get install time to check the import bench's RSS measurement");

const parse = parseTimeReport as (stderr: string) => { peakRSSMB: number; cpuSeconds: number };

describe("the import bench's peak RSS and CPU time", () => {
	it.runIf(TIME)("reads /usr/bin/time -v's report of the process it ran", () => {
		const measure = (script: string) => {
			const run = spawnSync("/usr/bin/time", ["-v", process.execPath, "-e", script], { encoding: "utf8" });
			expect(run.status).toBe(0);
			return parse(run.stderr);
		};
		// 120 MB written, so every page is resident; then some CPU spent.
		const big = measure("const b = Buffer.alloc(120 * 1024 * 1024, 1); let x = 0; for (let i = 0; i < 3e8; i++) x += i; console.log(b[5] + x)");
		const small = measure("console.log(1)");
		expect(big.peakRSSMB).toBeGreaterThan(120);
		expect(small.peakRSSMB).toBeLessThan(100);
		expect(big.peakRSSMB - small.peakRSSMB).toBeGreaterThan(100);
		expect(big.cpuSeconds).toBeGreaterThan(small.cpuSeconds);
	});

	it("reports the machine's load beside each figure, as uptime does", () => {
		const text = machineLoad() as string;
		expect(text).toMatch(/^load \d+\.\d\d, \d+\.\d\d, \d+\.\d\d on \d+ cores/);
		const fromUptime = /load average: ([\d.]+)/.exec(execFileSync("uptime", { encoding: "utf8" }))?.[1];
		if (fromUptime !== undefined) expect(Math.abs(Number(text.split(" ")[1]?.replace(",", "")) - Number(fromUptime))).toBeLessThan(2);
	});
});
