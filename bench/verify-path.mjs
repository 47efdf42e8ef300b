// npm run verify-path: which of the project's own source files one successful TOTP verify executes, from the
// route to the reply (issue 14's measure of how spread out the verify path is). Method: V8 precise coverage
// (node:inspector, call counts) over one POST /v1/users/{id}/verify on real HTTP, after a warm-up verify of
// another user so that lazy, once-only work (first statement preparation, caches, the decoy secret) is not
// counted; a file counts when any of its functions ran during that one request. Files are the built JavaScript
// of packages/server/src and packages/sdk/src (one .js per .ts), printed as their source paths.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApp } from "../packages/server/dist/app.js";
import { loadConfig } from "../packages/server/dist/config.js";
import { generateTOTP } from "../packages/server/dist/core/totp.js";
import { benchSecret, seed } from "./seed.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "twofold-path-"));
const masterKey = randomBytes(32).toString("base64");
const secretSeed = randomBytes(32);
const { apiKey } = await seed({ dataDir, masterKeyBase64: masterKey, users: 4, secretSeed });
const app = await createApp(loadConfig({ TWOFOLD_DATA_DIR: dataDir, TWOFOLD_MASTER_KEY: masterKey }, process.cwd()));
const http = await app.http();
const address = await http.listen({ host: "127.0.0.1", port: 0 });

async function verify(user) {
	const code = generateTOTP({ key: benchSecret(secretSeed, user), nowInMilliseconds: Date.now(), periodInSeconds: 30, digits: 6, algorithm: "SHA1" });
	const response = await fetch(`${address}/v1/users/user-${user}/verify`, {
		method: "POST",
		headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
		body: JSON.stringify({ code }),
	});
	if (response.status !== 200) throw new Error(`verify answered ${response.status}: ${await response.text()}`);
}

const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.startPreciseCoverage", { callCount: true, detailed: false });
await verify(0);
await session.post("Profiler.takePreciseCoverage"); // resets the counts: only the next request is seen
await verify(1);
const { result } = await session.post("Profiler.takePreciseCoverage");
await session.post("Profiler.stopPreciseCoverage");

const own = /\/packages\/(server|sdk)\/dist\/(.+)\.js$/;
const files = result
	.filter((script) => own.test(script.url) && script.functions.some((fn) => fn.ranges[0].count > 0))
	.map((script) => {
		const [, pkg, path] = own.exec(script.url);
		return `packages/${pkg}/src/${path}.ts`;
	})
	.sort();
for (const file of files) console.log(file.replace(root, ""));
console.log(`${files.length} source files on the path of one successful TOTP verify`);
await http.close();
await app.close();
rmSync(dataDir, { recursive: true, force: true });
