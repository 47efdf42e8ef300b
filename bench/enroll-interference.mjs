// Issue 12 finding 8: one tenant's verify latency while another tenant enrolls as
// fast as it can. Each enroll renders a QR code (a PNG is ~18 ms of CPU); on the
// event loop that raised the other tenant's verify median from 2.9 ms to 49 ms.
// For each configuration a fresh node is started; tenant 1 verifies correct codes
// open loop at a fixed rate (bench/paced-load.mjs), first alone, then while tenant 2
// enrolls closed loop (autocannon, every request a new user). Run on an older build,
// TWOFOLD_RATE_LIMIT_ENROLL is ignored, so both rows show the old behaviour.
import autocannon from "autocannon";
import { pacedLoad } from "./paced-load.mjs";

/** POST /v1/users/{id}/factors ({"type":"totp"}), a new user each request, for `seconds` over `connections`: autocannon's result. */
export function enrollLoad(url, apiKey, seconds, connections) {
	let n = 0;
	return new Promise((resolve, reject) => {
		autocannon(
			{
				url,
				connections,
				duration: seconds,
				requests: [
					{
						method: "POST",
						setupRequest: (request) => ({
							...request,
							path: `/v1/users/enroll-${process.pid}-${n++}/factors`,
							headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
							body: '{"type":"totp"}',
						}),
					},
				],
			},
			(error, result) => (error ? reject(error) : resolve(result)),
		);
	});
}

/**
 * startNode(env): a Twofold node on the benchmark's database with extra env ({ url, stop }).
 * nextVerify(): { path, body } of a correct code of tenant 1; prepareCodes() before each load.
 */
export async function enrollInterference({ startNode, nextVerify, prepareCodes, verifyKey, enrollKey, seconds, verifyRate, verifyConnections, enrollConnections }) {
	const configurations = [
		["enroll limit off (TWOFOLD_RATE_LIMIT_ENROLL=0)", { TWOFOLD_RATE_LIMIT_ENROLL: "0" }],
		["default enroll limit", {}],
	];
	const rows = [];
	for (const [name, env] of configurations) {
		const node = await startNode(env);
		try {
			const verify = () => pacedLoad({ url: node.url, rate: verifyRate, seconds, connections: verifyConnections, headers: { authorization: `Bearer ${verifyKey}` }, next: nextVerify });
			prepareCodes();
			const alone = await verify();
			prepareCodes();
			const [during, enroll] = await Promise.all([verify(), enrollLoad(node.url, enrollKey, seconds, enrollConnections)]);
			rows.push({
				configuration: name,
				"verify p50 alone": Number(alone.p50.toFixed(1)),
				"verify p50 while enrolling": Number(during.p50.toFixed(1)),
				"verify p99 while enrolling": Number(during.p99.toFixed(1)),
				"verify non-2xx": alone.non2xx + during.non2xx,
				"enrolls/s (201)": Math.round(enroll["2xx"] / seconds),
				"enroll 429s": enroll.statusCodeStats?.["429"]?.count ?? 0,
			});
		} finally {
			await node.stop();
		}
	}
	return rows;
}
