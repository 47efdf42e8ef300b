// Diagnostic: verifyCode called directly (no HTTP), 50 concurrent loops, to split service cost from HTTP cost.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../packages/server/dist/app.js";
import { loadConfig } from "../packages/server/dist/config.js";
import { generateTOTP } from "../packages/server/dist/core/totp.js";
import { benchSecret, seed } from "./seed.mjs";

const users = 150_000;
const dataDir = mkdtempSync(join(tmpdir(), "twofold-svc-"));
const masterKey = randomBytes(32).toString("base64");
const secretSeed = randomBytes(32);
const { apiKey } = await seed({ dataDir, masterKeyBase64: masterKey, users, secretSeed });
const app = await createApp(loadConfig({ TWOFOLD_DATA_DIR: dataDir, TWOFOLD_MASTER_KEY: masterKey }, process.cwd()));
const ctx = await app.services.apiKeys.authenticate(apiKey);
let next = 0;
let done = 0;
const end = Date.now() + 4000;
const mode = process.argv[2] ?? "verify";
async function loop() {
	while (Date.now() < end && next < users) {
		const i = next++ % users;
		if (mode === "auth") {
			await app.services.apiKeys.authenticate(apiKey);
		} else {
			const code = generateTOTP({ key: benchSecret(secretSeed, i), nowInMilliseconds: Date.now(), periodInSeconds: 30, digits: 6, algorithm: "SHA1" });
			await app.services.verifications.verify(ctx, `user-${i}`, { code });
		}
		done++;
	}
}
const start = Date.now();
await Promise.all(Array.from({ length: 50 }, loop));
console.log(`${mode}: ${Math.round(done / ((Date.now() - start) / 1000))} per second in-process`);
await app.close();
rmSync(dataDir, { recursive: true, force: true });
