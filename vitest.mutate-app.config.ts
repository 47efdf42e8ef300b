import { defineConfig } from "vitest/config";

/**
 * The tests a mutation chunk of the service layer runs (issue 20: services/, factors/, http/auth.ts,
 * webhook-delivery/, the SDK verifier): every test that drives the code in this process (unit tests and the
 * HTTP tests over `buildTestApp`), and none of those that only run `dist/` in a child process (test/e2e/, the
 * packaging and deploy-file checks, the bench): a mutant in the sandbox's sources cannot reach them, so they
 * could only cost time. Chosen with `STRYKER_TESTS=app` in stryker.chunk.config.mjs.
 */
export default defineConfig({
	test: {
		include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts"],
		exclude: [
			"**/node_modules/**",
			"packages/server/test/e2e/**",
			"packages/server/test/packaging.test.ts",
			"packages/server/test/deploy-files.test.ts",
			"packages/server/test/architecture.test.ts",
			"packages/server/test/docs-sync.test.ts",
			"packages/server/test/requirements.test.ts",
			// Sets process.umask(), which Node refuses inside a worker thread (Stryker's vitest runner uses threads), so
			// the dry run failed on it; it checks file modes of the data folder, which no mutated file decides.
			"packages/server/test/data-dir-permissions.test.ts",
		],
		testTimeout: 60_000,
		hookTimeout: 120_000,
		maxWorkers: 1,
	},
});
