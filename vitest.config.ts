import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "bench/**/*.test.ts"],
		testTimeout: 60_000,
		hookTimeout: 120_000,
		// Each file gets its own data dir or Postgres schema, so files may run in parallel;
		// two workers match the 2-core machines this runs on.
		maxWorkers: 2,
		reporters: ["default", "./vitest.summary-reporter.ts"],
	},
});
