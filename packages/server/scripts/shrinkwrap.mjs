#!/usr/bin/env node
/**
 * Writes packages/server/npm-shrinkwrap.json from the workspace's package-lock.json: exactly the packages an
 * install of @twofold/server needs in production, at the versions and places the lockfile holds (the ones CI
 * tests). The root's `overrides` do not apply where the server is installed as a package (issue 13); a
 * shrinkwrap travels with it. npm reads it when it installs the package from a registry that marks it as
 * shrinkwrapped, and ignores it for a local tarball (npm 11, checked: README, "Install with npm").
 *
 * Regenerate after any change to the server's or the SDK's dependencies, or to package-lock.json:
 *   npm run shrinkwrap            (from the repository root)
 * packages/server/test/e2e/packaged-install.test.ts fails when the committed file is out of date.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SERVER = "packages/server";
const SDK = "packages/sdk";

/** Where Node (and npm) finds `name` when required from the package at `from` (a lockfile location). */
function resolve(packages, from, name) {
	let dir = from;
	for (;;) {
		const candidate = `${dir === "" ? "" : `${dir}/`}node_modules/${name}`;
		if (packages[candidate] !== undefined) return candidate;
		if (dir === "") return undefined;
		const at = dir.lastIndexOf("/node_modules/");
		dir = at >= 0 ? dir.slice(0, at) : "";
	}
}

/** The dependencies npm installs for a package in production: regular, optional, and non-optional peers. */
function edgesOf(entry) {
	const optionalPeers = new Set(Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([name]) => name));
	return [
		...Object.keys(entry.dependencies ?? {}).map((name) => ({ name, optional: false })),
		...Object.keys(entry.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
		...Object.keys(entry.peerDependencies ?? {}).filter((name) => !optionalPeers.has(name)).map((name) => ({ name, optional: false })),
	];
}

/** The production closure of the server in the workspace lockfile, laid out relative to the server package. */
export function serverShrinkwrap(lock, serverManifest) {
	const packages = lock.packages;
	const reached = new Map(); // lockfile location -> location in the shrinkwrap
	const queue = [SERVER];
	while (queue.length > 0) {
		const from = queue.shift();
		const entry = packages[from];
		for (const edge of edgesOf(entry)) {
			let location = resolve(packages, from, edge.name);
			if (location === undefined) {
				if (edge.optional) continue;
				throw new Error(`package-lock.json has no ${edge.name} for ${from}: run npm install`);
			}
			if (packages[location].link) location = packages[location].resolved;
			if (reached.has(location)) continue;
			// The SDK is a workspace (a link in the lockfile); it ships inside the server tarball as node_modules/@twofold/sdk.
			reached.set(location, location === SDK ? "node_modules/@twofold/sdk" : location);
			queue.push(location);
		}
	}
	for (const location of reached.keys()) {
		if (location.startsWith("packages/") && location !== SDK) throw new Error(`the server depends on the workspace ${location}, which is not bundled`);
		if (location.startsWith(`${SERVER}/node_modules/`)) throw new Error(`${location} is nested in the server workspace: teach shrinkwrap.mjs to place it`);
	}
	const out = {};
	const { name, version, license, bin, engines, dependencies, bundleDependencies } = serverManifest;
	out[""] = { name, version, license, dependencies, bundleDependencies, bin, engines };
	for (const [from, to] of [...reached].sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0))) {
		const { dev, devOptional, ...entry } = packages[from];
		if (dev) throw new Error(`${from} is marked dev in package-lock.json but the server needs it: run npm install`);
		if (from === SDK) {
			const sdk = packages[SDK];
			out[to] = { version: sdk.version, inBundle: true, license: sdk.license, dependencies: sdk.dependencies, engines: sdk.engines };
			continue;
		}
		// Optional for production but required by a dev tool in the workspace: optional here.
		out[to] = devOptional ? { ...entry, optional: true } : entry;
	}
	return { name, version, lockfileVersion: 3, requires: true, packages: out };
}

export function serverShrinkwrapText(root) {
	const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
	const manifest = JSON.parse(readFileSync(join(root, SERVER, "package.json"), "utf8"));
	return `${JSON.stringify(serverShrinkwrap(lock, manifest), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
	const target = join(root, SERVER, "npm-shrinkwrap.json");
	writeFileSync(target, serverShrinkwrapText(root));
	process.stdout.write(`wrote ${target}\n`);
}
