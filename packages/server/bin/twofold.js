#!/usr/bin/env node
// Kept outside dist/ so the npm bin link exists before the first build.
// Kysely's ES module index re-exports about 210 files, which Node's loader opens all at once: loaded alone first, so
// that its burst of open files does not coincide with the rest of the program's and a process with a small open-file
// limit (ulimit -n 256, as on a small instance) still starts (issue 12's slow-socket test runs one).
await import("kysely");
await import("../dist/main.js");
