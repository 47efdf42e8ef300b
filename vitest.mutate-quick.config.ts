import { defineConfig } from "vitest/config";

/**
 * The tests `npm run mutate:quick` (and each chunk) runs: core/'s unit tests, the RFC vectors, the SDK verifier's, and
 * test/raster-image.test.ts, the one pure unit test of a core module that lives in test/ (issue 20: without it the
 * 142 mutants of core/raster-image.ts had no coverage).
 */
export default defineConfig({
	test: {
		include: ["packages/server/src/core/**/*.test.ts", "packages/server/test/vectors/**/*.test.ts", "packages/sdk/test/verify-assertion.test.ts", "packages/server/test/raster-image.test.ts"],
		testTimeout: 60_000,
		hookTimeout: 120_000,
		maxWorkers: 1,
	},
});
