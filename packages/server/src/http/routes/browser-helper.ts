import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { FastifyPluginAsync } from "fastify";

/**
 * GET /v1/browser.js: a dependency-free ES module for the application's pages,
 * built at startup from @simplewebauthn/browser's own bundle (no network, no
 * build step). Two calls: register(options) and authenticate(options) take the
 * options Twofold returned and give back the JSON to send to Twofold. Public:
 * it holds no secret, and pages load it without the API key, from the
 * application's own origin, so it is served with CORS open to all (a module
 * script from another origin needs it).
 */
export function buildModule(): string {
	const require = createRequire(import.meta.url);
	// The package's exports hide package.json; its CommonJS entry is script/index.js, one level down.
	const packageDir = dirname(dirname(require.resolve("@simplewebauthn/browser")));
	const bundle = readFileSync(join(packageDir, "dist/bundle/index.umd.min.js"), "utf8");
	const version = (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string }).version;
	// Given \`exports\` and \`module\`, the UMD bundle takes its CommonJS branch and fills \`exports\`, leaving the
	// page's global scope alone. (Shadowing globalThis instead hid PublicKeyCredential from the library.)
	return `// Twofold browser helper; contains @simplewebauthn/browser ${version} (MIT).
const lib = (function (exports, module) {
${bundle}
return exports;
})({}, {});
/** Runs navigator.credentials.create() with the options from POST /v1/users/{id}/factors; send the result to .../confirm as "credential". */
export function register(options) {
	return lib.startRegistration({ optionsJSON: options });
}
/** Runs navigator.credentials.get() with the options from POST /v1/users/{id}/challenges; send the result to .../verify as "credential". */
export function authenticate(options) {
	return lib.startAuthentication({ optionsJSON: options });
}
export const supported = () => lib.browserSupportsWebAuthn();
`;
}

export function browserHelperRoutes(): FastifyPluginAsync {
	const source = buildModule();
	return async (app) => {
		app.get("/v1/browser.js", { schema: { tags: ["webauthn"], summary: "The browser helper: an ES module with register() and authenticate().", response: { 200: { type: "string", description: "JavaScript (an ES module); cacheable, public." } } } }, async (_request, reply) =>
			reply
				.type("text/javascript; charset=utf-8")
				.header("cache-control", "public, max-age=300")
				.header("access-control-allow-origin", "*")
				.send(source),
		);
	};
}
