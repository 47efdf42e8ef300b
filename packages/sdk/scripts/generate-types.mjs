// npm run generate:sdk-types: writes packages/sdk/src/generated/api-types.ts from the built server's OpenAPI document.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../server/dist/app.js";
import { loadConfig } from "../../server/dist/config.js";
import { renderApiTypes } from "./api-types.mjs";

const dataDir = mkdtempSync(join(tmpdir(), "twofold-types-"));
const app = await createApp(loadConfig({ TWOFOLD_DATA_DIR: dataDir, TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64"), TWOFOLD_LOG_LEVEL: "silent" }, process.cwd()));
try {
	const http = await app.http();
	await http.ready();
	const target = new URL("../src/generated/api-types.ts", import.meta.url);
	mkdirSync(new URL(".", target), { recursive: true });
	writeFileSync(target, renderApiTypes(http.swagger()));
	console.log(`wrote ${target.pathname}`);
} finally {
	await app.close();
	rmSync(dataDir, { recursive: true, force: true });
}
