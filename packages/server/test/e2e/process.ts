import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { IN_CI } from "../helpers.js";

const binary = new URL("../../bin/twofold.js", import.meta.url).pathname;
const run = promisify(execFile);

/** True when a Debian tool is installed; under CI (any non-empty CI) a missing tool is an error (.ci/run installs it). */
export function hasTool(name: string, debianPackage: string): boolean {
	const found = spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
	if (!found && IN_CI) throw new Error(`${name} is required under CI (Debian package ${debianPackage})`);
	if (!found) console.warn(`[skip] ${name} not installed: apt-get install ${debianPackage} to run this suite`);
	return found;
}

/** Runs the CLI to completion. An env value of undefined removes that variable; cwd: where it runs (default: here). */
export async function cli(args: string[], env: Record<string, string | undefined>, options: { cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
	try {
		const { stdout, stderr } = await run(process.execPath, [binary, ...args], { env: { ...process.env, ...env }, cwd: options.cwd });
		return { code: 0, stdout, stderr };
	} catch (error) {
		const e = error as { code: number; stdout: string; stderr: string };
		return { code: e.code, stdout: e.stdout, stderr: e.stderr };
	}
}

export interface ServerProcess {
	url: string;
	output(): string;
	stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `twofold serve` as its own process on a free loopback port; resolves once it listens.
 * openFiles: the process's open-file limit (ulimit -n), as on a small instance.
 */
export async function startServer(env: Record<string, string>, options: { openFiles?: number } = {}): Promise<ServerProcess> {
	const childEnv = { ...process.env, TWOFOLD_HOST: "127.0.0.1", TWOFOLD_PORT: "0", ...env };
	const child: ChildProcess =
		options.openFiles === undefined
			? spawn(process.execPath, [binary, "serve"], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] })
			: spawn("sh", ["-c", `ulimit -n ${options.openFiles} && exec "$0" "$1" serve`, process.execPath, binary], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
	let output = "";
	child.stdout!.on("data", (chunk) => (output += chunk));
	child.stderr!.on("data", (chunk) => (output += chunk));
	const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
	const url = await new Promise<string>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 20_000);
		const check = (): void => {
			// Twofold's own line, printed after the first tenant's key (Fastify logs "Server listening" before it).
			const match = /Twofold listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
			if (match) {
				clearTimeout(timer);
				resolve(match[1]!);
			}
		};
		child.stdout!.on("data", check);
		void exited.then((code) => reject(new Error(`server exited with ${code}:\n${output}`)));
	});
	return {
		url,
		output: () => output,
		async stop(signal = "SIGTERM") {
			child.kill(signal);
			return exited;
		},
	};
}
