// Mutation testing of the security-critical code (issue 20): `npm run mutate` builds first (the tests
// import the built SDK and the CLI tests run bin/twofold.js), then mutates the files below and runs,
// for each mutant, only the tests that cover it. Slow on two cores (hours for the whole list): run it
// by hand, not in CI. `npm run mutate:quick` runs the fast subset in stryker.quick.config.mjs.
// Results: reports/mutation/ (HTML) and the clear-text table; docs/testing.md says what survivors mean.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
	testRunner: "vitest",
	plugins: ["@stryker-mutator/vitest-runner"],
	vitest: { configFile: "vitest.config.ts", related: true },
	// perTest coverage: each mutant runs only the tests that reached its code.
	coverageAnalysis: "perTest",
	mutate: [
		// core/assertion-contract.ts is a symbolic link to shared/assertion-contract.ts, as is the SDK's
		// src/assertion-contract.ts. The sandbox copies each link as a file of its own, so the contract is
		// mutated once, under this core path, where core/assertion-contract.test.ts pins it; the SDK's copy
		// is the same text and is deliberately not listed (it would only measure the same lines again,
		// against the slower SDK tests).
		"packages/server/src/core/**/*.ts",
		"!packages/server/src/core/**/*.test.ts",
		"packages/server/src/services/attempt-budget.ts",
		"packages/server/src/services/proofs.ts",
		"packages/server/src/factors/**/*.ts",
		"!packages/server/src/factors/**/*.test.ts",
		"packages/server/src/services/factors.ts",
		"packages/server/src/webhook-delivery/http-sender.ts",
		"packages/server/src/services/api-keys.ts",
		"packages/server/src/http/auth.ts",
		"packages/server/src/webhook-delivery/webhook-destination.ts",
		"packages/server/src/webhook-delivery/private-address.ts",
		"packages/sdk/src/verify-assertion.ts",
	],
	// The sandbox is a copy of the project: node_modules is linked, not copied; what the tests never
	// read is left out. dist/ is copied (the tests import the built SDK and run the built CLI).
	ignorePatterns: ["/.stryker-tmp", "/reports", "/bench/results", "/.bench", "/data", "/coverage", "/examples/**/node_modules", "/docs"],
	tempDirName: ".stryker-tmp",
	cleanTempDir: true,
	concurrency: 2,
	// Suites that start processes or databases need room on a busy machine.
	timeoutMS: 60_000,
	timeoutFactor: 2,
	reporters: ["clear-text", "progress", "html"],
	htmlReporter: { fileName: "reports/mutation/index.html" },
	thresholds: { high: 90, low: 75, break: null },
};
