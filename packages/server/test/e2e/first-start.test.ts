import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, startServer } from "./process.js";

/** Issue 13: a first start that cannot listen must not create (and so lose) the first tenant's admin key. */
describe("first start on a busy port", () => {
	const dataDir = mkdtempSync(join(tmpdir(), "twofold-first-start-"));
	afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

	it("fails with one line naming the port and TWOFOLD_PORT; the next start prints the key once; the one after, never", { timeout: 60_000 }, async () => {
		const busy: Server = createServer();
		await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
		const port = (busy.address() as { port: number }).port;
		let first: Awaited<ReturnType<typeof cli>>;
		try {
			first = await cli(["serve"], { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_HOST: "127.0.0.1", TWOFOLD_PORT: String(port) });
		} finally {
			await new Promise((resolve) => busy.close(resolve));
		}
		expect(first.code).not.toBe(0);
		expect(first.stderr.trim().split("\n")).toEqual([expect.stringMatching(new RegExp(`^twofold serve: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*TWOFOLD_PORT`))]);
		const everything = first.stdout + first.stderr;
		expect(everything).not.toMatch(/\n\s+at /); // no stack trace
		expect(everything).not.toContain("tfk_");

		// The same data dir, a free port: the first tenant is created now, and its key shown this once.
		const second = await startServer({ TWOFOLD_DATA_DIR: dataDir });
		let key: string;
		try {
			const output = second.output();
			expect(output.match(/tfk_\S+/g)).toHaveLength(1);
			expect(output).toContain("Its admin API key is shown only this once");
			key = /^\s+(tfk_\S+)$/m.exec(output)![1]!;
			const response = await fetch(`${second.url}/v1/tenant`, { headers: { authorization: `Bearer ${key}` } });
			expect(response.status).toBe(200);
			expect(((await response.json()) as { name: string }).name).toBe("default");
		} finally {
			expect(await second.stop()).toBe(0);
		}

		const third = await startServer({ TWOFOLD_DATA_DIR: dataDir });
		try {
			expect(third.output()).not.toContain("tfk_");
			expect(third.output()).not.toContain("created a first tenant");
			// The key from the second start still works: the third did not replace it.
			expect((await fetch(`${third.url}/v1/tenant`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
		} finally {
			await third.stop();
		}
	});

	it("names TWOFOLD_HOST when the address is not this machine's", async () => {
		// 192.0.2.1 (TEST-NET-1, RFC 5737) is never assigned to a local interface.
		const result = await cli(["serve"], { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_HOST: "192.0.2.1", TWOFOLD_PORT: "0" });
		expect(result.code).toBe(1);
		expect(result.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^twofold serve: cannot listen on 192\.0\.2\.1:0: .*EADDRNOTAVAIL.*TWOFOLD_HOST/)]);
	});
});
