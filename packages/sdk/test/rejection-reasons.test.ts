import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LOGGED_REASONS, REJECTION_REASONS } from "../src/index.js";

/** docs/assertions.md's table of rejection reasons lists every reason the SDK gives, its status, and whether it is logged (issue 13). */
describe("rejection reasons documented", () => {
	it("docs/assertions.md lists every RejectionReason with its status and the logged ones marked, and nothing else", () => {
		const doc = readFileSync(new URL("../../../docs/assertions.md", import.meta.url), "utf8");
		const section = doc.slice(doc.indexOf("### Why a request was refused"));
		const rows = section
			.split("\n")
			.map((line) => /^\| `([a-z_]+)` \| (\d{3}) \| (.*) \|$/.exec(line))
			.filter((match) => match !== null)
			.map(([, reason, status, meaning]) => [reason, { status: Number(status), logged: meaning!.startsWith("*logged*") }]);
		const outages = new Set(["jwks_unavailable", "twofold_unavailable"]);
		expect(Object.fromEntries(rows)).toEqual(
			Object.fromEntries(Object.keys(REJECTION_REASONS).map((reason) => [reason, { status: outages.has(reason) ? 503 : 401, logged: LOGGED_REASONS.has(reason as never) }])),
		);
	});
});
