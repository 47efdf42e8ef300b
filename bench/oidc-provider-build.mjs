// The cost of building a tenant's OpenID Provider (ADR 0008): `npm run build`, then `node bench/oidc-provider-build.mjs`.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
const { createApp } = await import(new URL("../packages/server/dist/app.js", import.meta.url).href);
const { loadConfig } = await import(new URL("../packages/server/dist/config.js", import.meta.url).href);
const dir = mkdtempSync(join(tmpdir(), "m-"));
const app = await createApp(loadConfig({ TWOFOLD_DATA_DIR: dir, TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64") }, process.cwd()), { logger: false });
const tenants = [];
for (let i = 0; i < 201; i++) tenants.push((await app.services.tenants.create(`t${i}`)).tenant.id);
let t0 = performance.now();
await app.oidc.providers.provider(tenants[0]);
const first = performance.now() - t0;
const times = [];
for (const id of tenants.slice(1)) { t0 = performance.now(); await app.oidc.providers.provider(id); times.push(performance.now() - t0); }
times.sort((a, b) => a - b);
t0 = performance.now();
for (let i = 0; i < 1000; i++) await app.oidc.providers.provider(tenants[1 + (i % 200)]);
const cached = (performance.now() - t0) / 1000;
const mem = process.memoryUsage().heapUsed / 1e6;
console.log(JSON.stringify({ first_ms: first.toFixed(1), build_p50_ms: times[100].toFixed(2), build_p99_ms: times[198].toFixed(2), cached_lookup_ms: cached.toFixed(3), heap_mb_with_201_providers: mem.toFixed(0) }));
await app.close();
(await import("node:fs")).rmSync(dir, { recursive: true, force: true });
