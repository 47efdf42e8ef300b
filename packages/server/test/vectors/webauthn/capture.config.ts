import { defineConfig } from "vitest/config";

/** Only the capture script (README.md): `npx vitest run --config packages/server/test/vectors/webauthn/capture.config.ts`. */
export default defineConfig({
	test: {
		include: ["packages/server/test/vectors/webauthn/capture.ts"],
		testTimeout: 120_000,
	},
});
