// One chunk of the mutation run (issue 20), for a machine that cannot give `npm run mutate` hours at once:
// STRYKER_CHUNK names the chunk (its reports: reports/mutation/<chunk>.json and .html), STRYKER_MUTATE lists the
// files (comma-separated globs), and the tests are the quick run's (vitest.mutate-quick.config.ts: the unit tests
// and the RFC vectors), which is where a pure module (core/) must be pinned. STRYKER_TESTS=app runs instead every
// test that drives the code in-process (vitest.mutate-app.config.ts), for services/, factors/ and the HTTP layer.
import quick from "./stryker.quick.config.mjs";

const chunk = process.env.STRYKER_CHUNK ?? "chunk";
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
	...quick,
	vitest: { configFile: process.env.STRYKER_TESTS === "app" ? "vitest.mutate-app.config.ts" : "vitest.mutate-quick.config.ts", related: true },
	mutate: (process.env.STRYKER_MUTATE ?? "").split(",").filter(Boolean),
	htmlReporter: { fileName: `reports/mutation/${chunk}.html` },
	jsonReporter: { fileName: `reports/mutation/${chunk}.json` },
};
