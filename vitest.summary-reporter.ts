import type { Reporter, TestModule, Vitest } from "vitest/node";

/** Same rule as packages/server/test/helpers.ts: any non-empty CI means CI. */
const IN_CI = (process.env.CI ?? "").trim() !== "";

/**
 * Ends the run with the plain line "N passed, N failed, N skipped" that CI
 * reads to tell a real test run from an empty one.
 *
 * Under CI (any non-empty CI) a skipped test is a failure of the run: every
 * tool, library and service the suites need is installed there, so a skip
 * means a check silently did not run (issue 20). Todo tests count as skipped.
 * A run narrowed on purpose (-t / testNamePattern) skips by design and is
 * exempt; running chosen files is not narrowing inside them, so it is not.
 */
export default class SummaryReporter implements Reporter {
	#narrowed = false;

	onInit(vitest: Vitest): void {
		this.#narrowed = vitest.config.testNamePattern !== undefined;
	}

	onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
		const count = { passed: 0, failed: 0, skipped: 0 };
		const skipped: string[] = [];
		for (const module of testModules) {
			for (const test of module.children.allTests()) {
				const state = test.result().state;
				if (state === "passed") count.passed++;
				else if (state === "failed") count.failed++;
				else {
					count.skipped++;
					if (skipped.length < 20) skipped.push(`${module.moduleId.replace(`${process.cwd()}/`, "")} > ${test.fullName}`);
				}
			}
			if (module.state() === "failed" && [...module.children.allTests()].length === 0) count.failed++;
		}
		process.stdout.write(`\nvitest: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`);
		if (IN_CI && count.skipped > 0 && !this.#narrowed) {
			process.stdout.write(`vitest: under CI (CI=${process.env.CI}) no test may be skipped; skipped:\n${skipped.map((name) => `  ${name}\n`).join("")}`);
			process.exitCode = 1;
		}
	}
}
