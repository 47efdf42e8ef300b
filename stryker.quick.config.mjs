// The fast subset (issue 20): core/ and the SDK verifier with their own unit tests only
// (vitest.mutate-quick.config.ts), two workers, a time limit per mutant. recovery-codes.ts is left to the
// full run: its unit tests generate 100k codes, a minute per mutant on a shared machine. Run by `npm run mutate:quick`.
import base from "./stryker.config.mjs";

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
	...base,
	vitest: { configFile: "vitest.mutate-quick.config.ts", related: true },
	mutate: [
		"packages/server/src/core/constant-time.ts",
		"packages/server/src/core/hotp.ts",
		"packages/server/src/core/totp.ts",
		"packages/server/src/core/api-key.ts",
		"packages/server/src/core/one-time-code.ts",
		"packages/server/src/core/webhook-signature.ts",
		"packages/sdk/src/verify-assertion.ts",
	],
	concurrency: 2,
	// Static mutants (module-level constants) run every test for each mutant: 98% of the time for half
	// the mutants. The quick run leaves them out; the full run (npm run mutate) keeps them.
	ignoreStatic: true,
	timeoutMS: 20_000,
	htmlReporter: { fileName: "reports/mutation/quick.html" },
	jsonReporter: { fileName: "reports/mutation/quick.json" },
	reporters: ["clear-text", "progress", "html", "json"],
};
