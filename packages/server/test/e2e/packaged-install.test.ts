import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeFor, IN_CI } from "../helpers.js";

/**
 * Issue 13: the packages as a user gets them. Both workspaces are packed with `npm pack`; the server tarball
 * alone is unpacked into an empty folder outside the repository and installed there with
 * `npm install --omit=dev`, the operator's path in the README that honours its npm-shrinkwrap.json
 * (better-sqlite3 compiles there), and run from it (`npx twofold --help`, `npx twofold serve`); the SDK tarball and Express go into an
 * application's folder, whose Express app protects a route with `requireStepUp` from the packed SDK and is
 * called with real assertions from the packed server. The installed server also serves the hosted prompt (issue 15): a
 * whole interaction (PAR, /authorize, the verify page with its assets, the code post, the code exchange) runs against it.
 */
const run = promisify(execFile);
const root = realpathSync(fileURLToPath(new URL("../../../../", import.meta.url)));

/** The environment of a user's shell: no npm lifecycle variables of this test run, no PATH entry into the repository. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [name, value] of Object.entries(process.env)) if (!name.toLowerCase().startsWith("npm_") && name !== "INIT_CWD") env[name] = value;
	env.PATH = (process.env.PATH ?? "")
		.split(delimiter)
		.filter((entry) => entry !== "" && !entry.startsWith(root))
		.join(delimiter);
	// The usual npm cache, so registry packages already fetched on this machine are not downloaded again.
	if (process.env.npm_config_cache !== undefined) env.npm_config_cache = process.env.npm_config_cache;
	return { ...env, ...extra };
}

async function registryReachable(): Promise<boolean> {
	try {
		await run("npm", ["ping"], { env: userEnv(), timeout: 30_000 });
		return true;
	} catch {
		return false;
	}
}

interface Packed {
	filename: string;
	size: number;
	unpackedSize: number;
	files: { path: string }[];
	bundled: string[];
}

/**
 * `npm pack` as a maintainer runs it, except that the build is skipped: `npm test` has just built dist/, and
 * rebuilding it under test files that load it could hand them a half-written file. The SDK's only pack
 * script is that build; the server's prepack still bundles the SDK (scripts/bundle-sdk.mjs).
 */
async function pack(workspace: "sdk" | "server", destination: string): Promise<Packed> {
	const args = ["pack", "--json", "--pack-destination", destination, ...(workspace === "sdk" ? ["--ignore-scripts"] : [])];
	const { stdout } = await run("npm", args, { cwd: join(root, "packages", workspace), env: userEnv({ TWOFOLD_PACK_PREBUILT: "1" }), timeout: 240_000, maxBuffer: 32 * 1024 * 1024 });
	const [packed] = JSON.parse(stdout) as Packed[];
	return packed!;
}

/** Every symlink under a folder, with where it points. */
function symlinks(dir: string, found: { path: string; target: string }[] = []): { path: string; target: string }[] {
	for (const name of readdirSync(dir)) {
		const path = join(dir, name);
		const stats = lstatSync(path);
		if (stats.isSymbolicLink()) found.push({ path, target: realpathSync(path) });
		else if (stats.isDirectory()) symlinks(path, found);
	}
	return found;
}

interface Started {
	output(): string;
	stop(): Promise<void>;
}

/** Starts a command in its own process group and waits for a line; stop() ends the group it started (npx starts a child). */
async function start(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; ready: RegExp }): Promise<Started & { match: RegExpExecArray }> {
	const child: ChildProcess = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
	let output = "";
	const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
	const match = await new Promise<RegExpExecArray>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`${command} ${args.join(" ")} did not become ready:\n${output}`)), 60_000);
		const onData = (chunk: Buffer): void => {
			output += chunk;
			const found = options.ready.exec(output);
			if (found) {
				clearTimeout(timer);
				resolve(found);
			}
		};
		child.stdout!.on("data", onData);
		child.stderr!.on("data", onData);
		void exited.then(() => {
			clearTimeout(timer);
			reject(new Error(`${command} ${args.join(" ")} exited early:\n${output}`));
		});
	});
	return {
		match,
		output: () => output,
		async stop() {
			if (child.exitCode !== null || child.signalCode !== null) return;
			process.kill(-child.pid!, "SIGTERM");
			await exited;
		},
	};
}

/** The Express application a user writes: only packages installed in its folder. */
const EXPRESS_APP = `import express from "express";
import { requireStepUp } from "@twofold/sdk/express";

const [issuer, tenant] = process.argv.slice(2);
const app = express();
app.post(
	"/account/delete",
	requireStepUp({ issuer, tenant, userId: (req) => req.get("x-user") }),
	(req, res) => res.json({ deleted: true, sub: res.locals.twofold.sub, tid: res.locals.twofold.tid }),
);
const server = app.listen(0, "127.0.0.1", () => console.log("app listening at http://127.0.0.1:" + server.address().port));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
`;

/** A TypeScript application of the SDK: every entry point's declarations, as a strict NodeNext project reads them. */
const TYPESCRIPT_APP = `import { ACR, createVerifier, requestAction, type StepUpClaims, TwofoldClient, TwofoldError } from "@twofold/sdk";
import { canonicalJSON } from "@twofold/sdk/action-hash";
import { requireStepUp } from "@twofold/sdk/express";
import { requireStepUp as stepUpHook, stepUpClaims } from "@twofold/sdk/fastify";

const twofold = new TwofoldClient({ baseUrl: "http://127.0.0.1:8080", apiKey: "tfk_x" });
const verifier = createVerifier({ issuer: "http://127.0.0.1:8080", tenant: "ten_x" });
export async function demo(token: string): Promise<string> {
	const claims: StepUpClaims = await verifier.verify(token, { userId: "u-1" });
	const result = await twofold.verify("u-1", { code: "123456", action: await requestAction("POST", "/x", {}) });
	return \`\${claims.acr} \${ACR.otp} \${result.valid} \${canonicalJSON({ a: 1 })} \${TwofoldError.name}\`;
}
export const middleware = requireStepUp<{ get(name: string): string | undefined }>({ issuer: "i", tenant: "t", userId: (req) => req.get("x-user") });
export const hook = stepUpHook<{ headers: Record<string, string | undefined> }>({ issuer: "i", tenant: "t", userId: () => "u" });
export const read = (request: object): string | undefined => stepUpClaims(request)?.sub;
// @ts-expect-error: the declarations are real, so a name the SDK does not export is an error
import { notExported } from "@twofold/sdk";
`;

const reachable = await registryReachable();
if (!reachable && IN_CI) throw new Error("the npm registry is unreachable: the packaged-install test installs express and the server's dependencies from it");
if (!reachable) console.warn("[skip] packaged-install: the npm registry is unreachable (npm ping failed); run with the registry reachable");

describe.skipIf(!reachable)("the packed SDK and server, installed from their tarballs outside the repository", () => {
	const dir = realpathSync(mkdtempSync(join(tmpdir(), "twofold-packaged-")));
	const tarballs = join(dir, "tarballs");
	/** An operator's empty folder: the server tarball alone, unpacked and installed as the README says. */
	const service = join(dir, "service");
	/** An application's folder: the SDK tarball and Express. */
	const app = join(dir, "app");
	const dataDir = join(dir, "data");
	let sdk: Packed;
	let server: Packed;
	let twofold: Started & { match: RegExpExecArray };
	let twofoldUrl: string;
	let adminKey: string;
	/** The shrinkwrap as the tarball ships it (npm install may rewrite the file in place). */
	let shrinkwrap: { packages: Record<string, { version?: string; inBundle?: boolean; dev?: boolean; optional?: boolean }> };
	let serviceWarnings: string;
	let expressApp: Started & { match: RegExpExecArray };
	const env = (): NodeJS.ProcessEnv => userEnv({ TWOFOLD_DATA_DIR: dataDir, TWOFOLD_HOST: "127.0.0.1", TWOFOLD_PORT: "0" });

	/** `npm install` in a new folder; returns how long it took and what npm warned. */
	async function install(folder: string, name: string, specs: string[]): Promise<{ seconds: number; stderr: string }> {
		mkdirSync(folder);
		writeFileSync(join(folder, "package.json"), `${JSON.stringify({ name, private: true, type: "module", allowScripts: { "better-sqlite3": true } }, null, 2)}\n`);
		return npmInstall(folder, specs);
	}

	async function npmInstall(folder: string, args: string[]): Promise<{ seconds: number; stderr: string }> {
		const began = Date.now();
		const { stderr } = await run("npm", ["install", "--no-audit", "--no-fund", ...args], { cwd: folder, env: userEnv(), timeout: 600_000, maxBuffer: 32 * 1024 * 1024 });
		return { seconds: Math.round((Date.now() - began) / 1000), stderr };
	}

	beforeAll(async () => {
		mkdirSync(tarballs);
		sdk = await pack("sdk", tarballs);
		server = await pack("server", tarballs);
		const express = (JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> }).packages["node_modules/express"]!.version;
		// One after the other: the machines running the suite have two cores, and better-sqlite3 compiles.
		// The operator's path: unpack the tarball, then `npm install --omit=dev` in it. The shrinkwrap is then the
		// project's own lockfile, which npm follows; `npm install <tarball>` ignores a dependency's shrinkwrap
		// unless a registry marks the package as having one (npm 11, checked), see the README.
		mkdirSync(service);
		await run("tar", ["-xzf", join(tarballs, server.filename), "-C", service, "--strip-components=1"]);
		shrinkwrap = JSON.parse(readFileSync(join(service, "npm-shrinkwrap.json"), "utf8")) as typeof shrinkwrap;
		const serviceInstall = await npmInstall(service, ["--omit=dev"]);
		serviceWarnings = serviceInstall.stderr;
		const appInstall = await install(app, "an-application", [join(tarballs, sdk.filename), `express@${express}`]);
		console.log(
			`[packaged-install] ${sdk.filename} ${sdk.size} B (${sdk.unpackedSize} B unpacked), ${server.filename} ${server.size} B (${server.unpackedSize} B unpacked); ` +
				`npm install of the server took ${serviceInstall.seconds} s, of the SDK and Express ${appInstall.seconds} s`,
		);
		for (const { stderr } of [serviceInstall, appInstall]) if (/EBADENGINE/.test(stderr)) console.warn(`[packaged-install] npm install warned:\n${stderr}`);
		writeFileSync(join(app, "app.mjs"), EXPRESS_APP);

		twofold = await start("npx", ["--no-install", "twofold", "serve"], { cwd: service, env: env(), ready: /Twofold listening at (http:\/\/127\.0\.0\.1:\d+)/ });
		twofoldUrl = twofold.match[1]!;
		// The first start prints the first tenant's admin key (before or after the listening line).
		const keyLine = /(?:^|\s)(tfk_\S+)/m;
		for (let waited = 0; !keyLine.test(twofold.output()); waited += 100) {
			if (waited > 10_000) throw new Error(`twofold serve printed no admin key:\n${twofold.output()}`);
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
		adminKey = keyLine.exec(twofold.output())![1]!;
	}, 900_000);

	afterAll(async () => {
		await expressApp?.stop();
		await twofold?.stop();
		rmSync(dir, { recursive: true, force: true });
	});

	it("each tarball holds built JavaScript and type declarations, a README and the licence, and no source, test or script", () => {
		const sdkFiles = sdk.files.map((file) => file.path);
		expect(sdkFiles).toEqual(expect.arrayContaining(["package.json", "README.md", "LICENSE", "dist/index.js", "dist/index.d.ts", "dist/express.js", "dist/express.d.ts", "dist/fastify.js", "dist/fastify.d.ts", "dist/action-hash.js", "dist/action-hash.d.ts"]));
		const serverFiles = server.files.map((file) => file.path);
		expect(serverFiles).toEqual(expect.arrayContaining(["package.json", "README.md", "LICENSE", "npm-shrinkwrap.json", "bin/twofold.js", "dist/main.js", "node_modules/@twofold/sdk/dist/action-hash.js", "node_modules/@twofold/sdk/package.json"]));
		// The hosted prompt's pages, locales and assets (issue 15) are compiled modules: the stylesheet and scripts are strings in them.
		expect(serverFiles).toEqual(expect.arrayContaining(["dist/http/routes/prompt-pages.js", "dist/http/routes/prompt-assets.js", "dist/pages/stylesheet.js", "dist/pages/prompt-script.js", "dist/pages/locales/en.js", "dist/pages/locales/de.js"]));
		expect(server.bundled).toEqual(["@twofold/sdk"]);
		for (const path of [...sdkFiles, ...serverFiles.map((path) => path.replace(/^node_modules\/@twofold\/sdk\//, ""))]) {
			expect(path).not.toMatch(/^(src|test|scripts)\//);
			expect(path).not.toMatch(/\.test\.|\.ts$(?<!\.d\.ts)|\.map$|tsconfig/);
		}
	});

	it("the installs use no file of the repository: no link into it, and the server's SDK is the copy bundled in its tarball", async () => {
		for (const folder of [service, app]) {
			expect(symlinks(join(folder, "node_modules")).filter((link) => !link.target.startsWith(`${folder}/`))).toEqual([]);
		}
		// The server's folder holds the SDK its tarball carried (no registry lookup: the name is not ours) ...
		expect(readdirSync(join(service, "node_modules/@twofold"))).toEqual(["sdk"]);
		const bundledSdk = join(service, "node_modules/@twofold/sdk");
		expect(lstatSync(bundledSdk).isDirectory()).toBe(true);
		expect(server.files.map((file) => file.path)).toContain("node_modules/@twofold/sdk/dist/action-hash.js");
		expect(readFileSync(join(bundledSdk, "dist/action-hash.js"), "utf8")).toBe(readFileSync(join(root, "packages/sdk/dist/action-hash.js"), "utf8"));
		// ... and Node resolves the server's import of @twofold/sdk/action-hash to that copy.
		const { stdout } = await run(process.execPath, ["--input-type=module", "-e", "console.log(import.meta.resolve('@twofold/sdk/action-hash'))"], {
			cwd: join(service, "dist/services"),
			env: userEnv(),
		});
		expect(fileURLToPath(stdout.trim())).toBe(join(bundledSdk, "dist/action-hash.js"));
		// The shrinkwrap records it as part of the bundle; the application's SDK came from its tarball.
		expect(shrinkwrap.packages["node_modules/@twofold/sdk"]).toMatchObject({ inBundle: true });
		const lockOf = (folder: string) => JSON.parse(readFileSync(join(folder, "package-lock.json"), "utf8")) as { packages: Record<string, { inBundle?: boolean; resolved?: string }> };
		expect(lockOf(app).packages["node_modules/@twofold/sdk"]?.resolved).toMatch(/^file:/);
	});

	it("a strict TypeScript project compiles against the declarations in the packed SDK", async () => {
		writeFileSync(join(app, "check.ts"), TYPESCRIPT_APP);
		const tsconfig = { compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2022", "dom"], types: [] }, files: ["check.ts"] };
		writeFileSync(join(app, "tsconfig.json"), JSON.stringify(tsconfig));
		// The repository's compiler is only the tool here; what it reads is the application's node_modules.
		const compiled = await run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: app, env: userEnv() }).then(
			() => "",
			(error: { stdout: string }) => error.stdout,
		);
		expect(compiled).toBe("");
	});

	it("the server's install has exactly the versions of its npm-shrinkwrap.json, which CI tested, and npm warned of no engine", () => {
		const wrong: string[] = [];
		let checked = 0;
		for (const [path, entry] of Object.entries(shrinkwrap.packages)) {
			if (path === "" || entry.dev === true || entry.version === undefined) continue;
			const manifest = join(service, path, "package.json");
			let installed: string | undefined;
			try {
				installed = (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
			} catch {
				// An optional dependency for another platform is not installed.
				if (entry.optional === true) continue;
			}
			checked += 1;
			if (installed !== entry.version) wrong.push(`${path}: shrinkwrap ${entry.version}, installed ${installed ?? "nothing"}`);
		}
		expect(wrong).toEqual([]);
		expect(checked).toBeGreaterThan(100);
		// light-my-request's cookie is the 1.x the lockfile pins (cookie 2 wants Node 22).
		expect(shrinkwrap.packages["node_modules/cookie"]?.version ?? shrinkwrap.packages["node_modules/light-my-request/node_modules/cookie"]?.version).toMatch(/^1\./);
		expect(serviceWarnings).not.toMatch(/EBADENGINE/);
	});

	it("`npx twofold --help` answers from the installed package", async () => {
		const { stdout } = await run("npx", ["--no-install", "twofold", "--help"], { cwd: service, env: env() });
		expect(stdout).toMatch(/^usage: twofold <command>/);
		expect(stdout).toMatch(/serve/);
	});

	it("`npx twofold import --dry-run` reads a token file on the installed package's reader thread (issue 17)", async () => {
		const { stdout: created } = await run("npx", ["--no-install", "twofold", "tenants", "create", "--name", "Importing", "--json"], { cwd: service, env: env() });
		const tenantId = (JSON.parse(created) as { tenant_id: string }).tenant_id;
		const file = join(service, "tokens.txt");
		writeFileSync(file, "otpauth://totp/Acme:ann?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\notpauth://totp/Acme:ben?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n");
		const { stdout } = await run("npx", ["--no-install", "twofold", "import", "--tenant", tenantId, "--user-from", "label", "--dry-run", "--json", file], { cwd: service, env: env() });
		expect(JSON.parse(stdout)).toMatchObject({ status: "dry_run", format: "otpauth", counts: { records: 2, users_created: 2, invalid: 0 } });
	});

	it("the installed server serves the hosted prompt: PAR, /authorize, the verify page and its assets, the code post and the id_token", async () => {
		const api = async (method: string, path: string, body?: unknown) => {
			const response = await fetch(`${twofoldUrl}${path}`, {
				method,
				headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
				...(body === undefined ? {} : { body: JSON.stringify(body) }),
			});
			const json = (await response.json()) as Record<string, any>;
			if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
			return json;
		};
		const tenant = (await api("GET", "/v1/tenant")).id as string;
		const issuer = `${twofoldUrl}/t/${tenant}`;
		const redirect = "http://127.0.0.1:9/callback";
		const created = await api("POST", "/v1/clients", { name: "Packaged shop", redirect_uris: [redirect] });
		const basic = `Basic ${Buffer.from(`${encodeURIComponent(created.client.client_id)}:${encodeURIComponent(created.client_secret)}`).toString("base64")}`;
		const enrolled = await api("POST", "/v1/users/u-prompt/factors", { type: "totp" });
		await api("POST", `/v1/users/u-prompt/factors/${enrolled.factor.id}/confirm`, { code: codeFor(enrolled.totp.secret, Date.now()) });

		const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { issuer: string; pushed_authorization_request_endpoint: string };
		expect(discovery.issuer).toBe(issuer);
		const verifier = randomBytes(32).toString("base64url");
		const pushed = await fetch(discovery.pushed_authorization_request_endpoint, {
			method: "POST",
			headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams({
				response_type: "code",
				client_id: created.client.client_id,
				scope: "openid",
				redirect_uri: redirect,
				state: "s-1",
				nonce: "n-1",
				code_challenge: createHash("sha256").update(verifier).digest("base64url"),
				code_challenge_method: "S256",
				login_hint: "u-prompt",
			}),
		});
		expect(pushed.status).toBe(201);
		const { request_uri } = (await pushed.json()) as { request_uri: string };

		// The browser, reduced to a cookie jar (each cookie sent back; one interaction).
		const cookies = new Map<string, string>();
		const browse = async (url: string, init: RequestInit = {}): Promise<Response> => {
			const response = await fetch(new URL(url, twofoldUrl), { ...init, redirect: "manual", headers: { ...(init.headers as Record<string, string>), cookie: [...cookies].map(([n, v]) => `${n}=${v}`).join("; ") } });
			for (const line of response.headers.getSetCookie()) {
				const [pair] = line.split(";");
				const at = pair!.indexOf("=");
				cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
			}
			return response;
		};
		const authorize = await browse(`${issuer}/authorize?${new URLSearchParams({ client_id: created.client.client_id, request_uri })}`);
		expect(authorize.status).toBe(303);
		const pageURL = authorize.headers.get("location")!;
		const page = await browse(pageURL);
		expect(page.status).toBe(200);
		expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
		const html = await page.text();
		expect(html).toContain('autocomplete="one-time-code"');
		expect(html).toContain("Packaged shop");
		// Every file the page loads is served by the installed package, from its own origin.
		const assets = [...html.matchAll(/<(?:link[^>]+href|script[^>]+src)="(\/[^"]+)"/g)].map((m) => m[1]!);
		expect(assets).toEqual(expect.arrayContaining(["/prompt/assets/prompt.css"]));
		for (const path of [...assets, "/prompt/assets/passkey.js"]) {
			const asset = await fetch(`${twofoldUrl}${path}`);
			expect(asset.status, path).toBe(200);
			expect(asset.headers.get("content-type"), path).toMatch(/^text\/(css|javascript)/);
			expect((await asset.text()).length, path).toBeGreaterThan(100);
		}
		expect(html).not.toMatch(/(?:href|src|action)="(?:https?:)?\/\//);

		const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
		// The next step's code: the confirmation used the current one.
		const posted = await browse(`${pageURL}/verify`, {
			method: "POST",
			headers: { "content-type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams({ csrf, code: codeFor(enrolled.totp.secret, Date.now() + 30_000) }).toString(),
		});
		expect(posted.status, await posted.clone().text()).toBe(303);
		const resumed = await browse(posted.headers.get("location")!);
		expect(resumed.status).toBe(303);
		const callback = new URL(resumed.headers.get("location")!);
		expect(callback.origin + callback.pathname).toBe(redirect);
		expect(callback.searchParams.get("state")).toBe("s-1");
		const token = await fetch(`${issuer}/token`, {
			method: "POST",
			headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams({ grant_type: "authorization_code", code: callback.searchParams.get("code")!, redirect_uri: redirect, code_verifier: verifier }),
		});
		expect(token.status).toBe(200);
		const { id_token } = (await token.json()) as { id_token: string };
		const claims = JSON.parse(Buffer.from(id_token.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
		expect(claims).toMatchObject({ iss: issuer, sub: "u-prompt", nonce: "n-1", tid: tenant, acr: "urn:twofold:acr:otp" });
	});

	it("an Express app protects a route with requireStepUp from the packed SDK: a real assertion passes, a missing or foreign one is refused", async () => {
		const call = async (method: string, path: string, key: string, body?: unknown) => {
			const response = await fetch(`${twofoldUrl}${path}`, {
				method,
				headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
				...(body === undefined ? {} : { body: JSON.stringify(body) }),
			});
			const json = (await response.json()) as Record<string, any>;
			if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
			return json;
		};
		/** Enrolls TOTP for a user, confirms it with the current code and verifies with the next one: an unbound assertion. */
		const assertionFor = async (key: string, userId: string): Promise<string> => {
			const enrolled = await call("POST", `/v1/users/${userId}/factors`, key, { type: "totp" });
			const secret = enrolled.totp.secret as string;
			await call("POST", `/v1/users/${userId}/factors/${enrolled.factor.id}/confirm`, key, { code: codeFor(secret, Date.now()) });
			const verified = await call("POST", `/v1/users/${userId}/verify`, key, { code: codeFor(secret, Date.now() + 30_000) });
			expect(verified.valid).toBe(true);
			return verified.assertion as string;
		};
		const tenant = (await call("GET", "/v1/tenant", adminKey)).id as string;
		expressApp = await start(process.execPath, ["app.mjs", twofoldUrl, tenant], { cwd: app, env: userEnv(), ready: /app listening at (http:\/\/127\.0\.0\.1:\d+)/ });
		const appUrl = expressApp.match[1]!;
		const deleteAccount = (userId: string, assertion?: string) =>
			fetch(`${appUrl}/account/delete`, { method: "POST", headers: { "x-user": userId, ...(assertion === undefined ? {} : { "twofold-assertion": assertion }) } });

		const assertion = await assertionFor(adminKey, "u-1842");
		const accepted = await deleteAccount("u-1842", assertion);
		expect(accepted.status).toBe(200);
		expect(await accepted.json()).toEqual({ deleted: true, sub: "u-1842", tid: tenant });

		const missing = await deleteAccount("u-1842");
		expect(missing.status).toBe(401);
		expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer error="insufficient_user_authentication"/);

		// Another user's assertion, from the same tenant.
		expect((await deleteAccount("u-77", assertion)).status).toBe(401);

		// The same user id in another tenant of the same Twofold: signed by the same keys, for another tid.
		const { stdout } = await run("npx", ["--no-install", "twofold", "tenants", "create", "--name", "Other", "--json"], { cwd: service, env: env() });
		const other = JSON.parse(stdout) as { tenant_id: string; api_key: string };
		expect(other.tenant_id).not.toBe(tenant);
		const foreign = await assertionFor(other.api_key, "u-1842");
		const refused = await deleteAccount("u-1842", foreign);
		expect(refused.status).toBe(401);
		expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("insufficient_user_authentication");
	});
});
