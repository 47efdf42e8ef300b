#!/usr/bin/env node
/**
 * prepack/postpack of @twofold/server: the server imports @twofold/sdk at run time (the action hash), and
 * @twofold/sdk is not a name we hold on the npm registry, so the server tarball carries the SDK inside it
 * (bundleDependencies) and an install of the tarball never asks the registry for it (issue 13).
 *
 * In the workspace the SDK is a symlink in the root node_modules, which `npm pack` of this package does
 * not see (it loads only this package's own node_modules). So `prepack` builds both packages, packs the
 * SDK exactly as it would be published (its `files` choose what ships) and unpacks that tarball into
 * packages/server/node_modules/@twofold/sdk, where npm pack bundles it; `postpack` removes it again so
 * the workspace resolves the live SDK.
 *
 * TWOFOLD_PACK_PREBUILT=1 skips the build, for e2e/packaged-install.test.ts: `npm test` has just built
 * dist/, and rebuilding it while other test files load it could hand them a half-written file.
 *
 *   node scripts/bundle-sdk.mjs add      # prepack
 *   node scripts/bundle-sdk.mjs remove   # postpack
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const serverDir = dirname(dirname(fileURLToPath(import.meta.url)));
const sdkDir = join(serverDir, "..", "sdk");
const target = join(serverDir, "node_modules", "@twofold", "sdk");

/** Removes the bundled copy only: anything else npm may one day place in packages/server/node_modules stays. */
function remove() {
	rmSync(target, { recursive: true, force: true });
	for (const dir of [join(serverDir, "node_modules", "@twofold"), join(serverDir, "node_modules")]) {
		try {
			rmdirSync(dir); // only when empty
		} catch {}
	}
}

function add() {
	remove();
	// The server's build builds the SDK first (the server compiles against its types).
	if (process.env.TWOFOLD_PACK_PREBUILT !== "1") execFileSync("npm", ["run", "build"], { cwd: serverDir, stdio: "inherit" });
	const scratch = mkdtempSync(join(tmpdir(), "twofold-sdk-pack-"));
	try {
		// --ignore-scripts: the SDK's own prepack would only build it again.
		const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch], {
			cwd: sdkDir,
			encoding: "utf8",
			stdio: ["ignore", "pipe", "inherit"],
			// Under `npm pack --dry-run` the nested pack must still write the SDK's tarball, into the scratch folder.
			env: { ...process.env, npm_config_dry_run: "false" },
		});
		const [{ filename }] = JSON.parse(out);
		mkdirSync(target, { recursive: true });
		execFileSync("tar", ["-xzf", join(scratch, filename), "-C", target, "--strip-components=1"], { stdio: "inherit" });
	} finally {
		rmSync(scratch, { recursive: true, force: true });
	}
}

const command = process.argv[2];
if (command === "add") add();
else if (command === "remove") remove();
else {
	process.stderr.write("usage: bundle-sdk.mjs add|remove\n");
	process.exit(2);
}
