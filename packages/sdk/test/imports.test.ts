import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBase32 } from "../../server/src/core/base32.js";
import { buildTestApp, type TestApp } from "../../server/test/helpers.js";
import { TwofoldClient, TwofoldError } from "../src/index.js";

/** The SDK's import methods (issue 17) against a real server on loopback. */
describe("TwofoldClient imports", () => {
	let t: TestApp;
	let client: TwofoldClient;
	beforeAll(async () => {
		t = await buildTestApp();
		client = new TwofoldClient({ baseUrl: await t.http.listen({ host: "127.0.0.1", port: 0 }), apiKey: t.adminKey });
	});
	afterAll(async () => t?.close());

	const list = (users: string[]): string => users.map((user) => `otpauth://totp/Acme:${user}?secret=${encodeBase32(randomBytes(20))}`).join("\n");

	it("imports from a string (dry run) and from a stream; lists and reads the job; a file it cannot place is a TwofoldError", async () => {
		const dry = await client.importTokens(list(["sdk-a"]), { dryRun: true, userFrom: "label" });
		expect(dry).toMatchObject({ job_id: null, status: "dry_run", counts: { users_created: 1 } });

		const bytes = new TextEncoder().encode(list(["sdk-b", "sdk-c"]));
		const stream = new ReadableStream<Uint8Array>({
			start(controller) {
				// Two pieces, cut inside a line: the server reads the body as it comes.
				controller.enqueue(bytes.subarray(0, 50));
				controller.enqueue(bytes.subarray(50));
				controller.close();
			},
		});
		const done = await client.importTokens(stream, { format: "otpauth", userFrom: "label" });
		expect(done).toMatchObject({ status: "completed", counts: { users_created: 2 } });
		expect((await client.listImports()).imports.map((job) => job.job_id)).toEqual([done.job_id]);
		expect(await client.getImport(done.job_id!)).toMatchObject({ job_id: done.job_id, status: "completed" });

		const refused = await client.importTokens("nothing a reader knows\n").catch((error: unknown) => error);
		expect(refused).toBeInstanceOf(TwofoldError);
		expect((refused as TwofoldError).code).toBe("import_file_invalid");
	});
});
