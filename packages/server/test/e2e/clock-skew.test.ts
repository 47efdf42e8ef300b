import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeFor, createPostgresSchema, IN_CI, POSTGRES_AVAILABLE } from "../helpers.js";
import { cli, hasTool, type ServerProcess, startServer } from "./process.js";

/**
 * libfaketime (Debian package libfaketime, pulled in by faketime), preloaded into the server process
 * only (this test's clock stays true). Found where dpkg says it is, else in any multiarch or local
 * library directory; under CI a missing library is an error, not a skip (issue 20).
 */
function findLibfaketime(): string | undefined {
	const listed = spawnSync("dpkg", ["-L", "libfaketime"], { encoding: "utf8" });
	const fromDpkg = listed.status === 0 ? listed.stdout.split("\n").find((line) => line.endsWith("/libfaketimeMT.so.1") && existsSync(line)) : undefined;
	if (fromDpkg !== undefined) return fromDpkg;
	const directories = ["/usr/lib", "/usr/local/lib", "/usr/lib64"].flatMap((base) => {
		const arches = existsSync(base) ? readdirSync(base).filter((name) => name.endsWith("-linux-gnu")).map((arch) => join(base, arch, "faketime")) : [];
		return [...arches, join(base, "faketime")];
	});
	return directories.map((directory) => join(directory, "libfaketimeMT.so.1")).find((path) => existsSync(path));
}
const LIBFAKETIME = findLibfaketime();
if (LIBFAKETIME === undefined && IN_CI) throw new Error("libfaketimeMT.so.1 is required under CI (Debian packages faketime, libfaketime)");
if (LIBFAKETIME === undefined) console.warn("[skip] libfaketime not found: apt-get install faketime to run the clock-skew suite");
const FAKETIME = POSTGRES_AVAILABLE && hasTool("faketime", "faketime") && LIBFAKETIME !== undefined;

/**
 * D-7: a node started with its clock 40 s ahead of PostgreSQL's refuses to
 * check codes (503 clock_skew) and reports not ready, while a node with a
 * true clock goes on serving the same database, and the code stays unused.
 */
describe.skipIf(!FAKETIME)("a node with a skewed clock", () => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-skew-"));
	let schema: Awaited<ReturnType<typeof createPostgresSchema>>;
	let env: Record<string, string>;
	let good: ServerProcess;
	let skewed: ServerProcess;
	let key: string;

	beforeAll(async () => {
		schema = await createPostgresSchema();
		env = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_DATABASE_URL: schema.url, TWOFOLD_MASTER_KEY: randomBytes(32).toString("base64") };
		good = await startServer(env);
		skewed = await startServer({ ...env, LD_PRELOAD: LIBFAKETIME!, FAKETIME: "+40s", FAKETIME_DONT_FAKE_MONOTONIC: "1" });
		key = (JSON.parse((await cli(["tenants", "create", "--name", "Skew", "--json"], env)).stdout) as { api_key: string }).api_key;
	});
	afterAll(async () => {
		await skewed?.stop();
		await good?.stop();
		await schema?.drop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	const call = async (server: ServerProcess, method: string, path: string, body?: unknown) => {
		const response = await fetch(`${server.url}${path}`, {
			method,
			headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		return { status: response.status, json: (await response.json()) as any };
	};

	it("refuses to verify and is not ready; the true node verifies the same code", async () => {
		expect(skewed.output()).toMatch(/clock differs from the database's/);
		expect((await call(skewed, "GET", "/readyz")).json.error.code).toBe("clock_skew");
		expect((await call(good, "GET", "/readyz")).status).toBe(200);

		const enrolled = await call(good, "POST", "/v1/users/skew-user/factors", { type: "totp" });
		const secret = enrolled.json.totp.secret as string;
		expect((await call(good, "POST", `/v1/users/skew-user/factors/${enrolled.json.factor.id}/confirm`, { code: codeFor(secret, Date.now()) })).status).toBe(200);
		// The skewed node's "now" is 40 s ahead: the code for its "now", which it would accept if it checked.
		const ahead = codeFor(secret, Date.now() + 40_000);
		const refused = await call(skewed, "POST", "/v1/users/skew-user/verify", { code: ahead });
		expect(refused.status).toBe(503);
		expect(refused.json.error.code).toBe("clock_skew");
		// Not counted, not consumed: the true node still takes the current code.
		expect((await call(good, "POST", "/v1/users/skew-user/verify", { code: codeFor(secret, Date.now() + 30_000) })).status).toBe(200);
		expect((await call(good, "GET", "/v1/users/skew-user")).json.locked).toBe(false);
	});
});
