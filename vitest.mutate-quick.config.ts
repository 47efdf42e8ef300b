import { defineConfig } from "vitest/config";

/** The tests `npm run mutate:quick` runs: core/'s unit tests, the RFC vectors and the SDK verifier's. */
export default defineConfig({
	test: {
		include: ["packages/server/src/core/**/*.test.ts", "packages/server/test/vectors/**/*.test.ts", "packages/sdk/test/verify-assertion.test.ts"],
		testTimeout: 60_000,
		hookTimeout: 120_000,
		maxWorkers: 1,
	},
});
