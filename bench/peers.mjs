// BENCH_PEERS=1 in `npm run bench` (issue 19, "Peers in the benchmark"): beside the bare route and Twofold's
// correct-code load, in every round, the same autocannon load (connections, seconds) on a user's likeliest
// alternative that runs here without a network: better-auth with its twoFactor plugin on SQLite
// (bench/peer-better-auth.mjs), timing its verify-totp alone, each request a different user with a pending
// two-factor sign-in made before the round and its current code (bench/peer-better-auth-load.mjs). Then the ratios,
// medians of per-round ratios as bench/run.mjs does, and what each did with a replayed code.
import { readFileSync } from "node:fs";
import { enrollPeerUsers, nextPeerRequest, peerReplayProbe, preparePeerCodes, preparePeerRound } from "./peer-better-auth-load.mjs";

export const BETTER_AUTH_VERSION = JSON.parse(readFileSync(new URL("../node_modules/better-auth/package.json", import.meta.url), "utf8")).version;
export const PEER_ROW = `better-auth ${BETTER_AUTH_VERSION} verify-totp (prepared sign-ins)`;

const log = (line) => process.stdout.write(`${line}\n`);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
// Three significant digits: the peer's ratio to the bare route is far below 0.01 on a 2-core machine.
const ratio = (value) => value.toPrecision(3);

/** Twofold with a replayed code: one user's current code sent twice (request: run.mjs's next correct-code request). */
async function twofoldReplayProbe({ url, headers, request }) {
	const { path, body } = request();
	const send = async () => (await fetch(`${url}${path}`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body })).status;
	const first = await send();
	return { first, second: await send() };
}

/**
 * Starts the peer's server (start: run.mjs's start()), enrolls its users (BENCH_PEER_USERS; default 200 per second of
 * load, above the verify-totp rate seen on a 2-core machine) and runs the replay probes, on better-auth and, through
 * `twofold`, on Twofold. Each round then calls prepareRound() before its first load and the function it returns with
 * run.mjs's load() where the peer's load belongs.
 */
export async function startPeers({ start, seconds, connections, twofold, users = Number(process.env.BENCH_PEER_USERS ?? 200 * seconds) }) {
	const server = await start([new URL("./peer-better-auth.mjs", import.meta.url).pathname], {});
	try {
		log(`better-auth ${BETTER_AUTH_VERSION} (twoFactor plugin, SQLite WAL synchronous=FULL): enrolling ${users} users (BENCH_PEER_USERS)...`);
		const setup = await enrollPeerUsers({ url: server.url, users, log });
		const replay = { betterAuth: await peerReplayProbe(setup), twofold: await twofoldReplayProbe(twofold) };
		let mostUsed = 0;
		const ranOut = [];
		return {
			pid: server.pid,
			stop: server.stop,
			/** The sign-ins a round's load may use, made now (untimed); returns that load, to run with run.mjs's load(). */
			async prepareRound(roundNumber) {
				// All users for the first round; after it, half again as many as the busiest round used (the sign-ins cost a
				// scrypt each), or all again once a round has run out.
				const count = mostUsed === 0 || ranOut.length > 0 ? users : Math.min(users, Math.ceil(mostUsed * 1.5) + connections);
				const round = await preparePeerRound(setup, count);
				return async (load) => {
					preparePeerCodes(round);
					const result = await load(server.url, {}, () => nextPeerRequest(round));
					mostUsed = Math.max(mostUsed, Math.min(round.next, round.users.length));
					if (round.exhausted > 0) {
						ranOut.push(roundNumber);
						log(`warning: round ${roundNumber}: better-auth's load ran out of its ${round.users.length} prepared sign-ins; ${round.exhausted} more requests were made without one (each fails, none replays a code): raise BENCH_PEER_USERS`);
					}
					return result;
				};
			},
			/** The lines after the results table: the ratios over the rounds (rows of run.mjs's row()), the replay note. */
			summary(perRound) {
				const peerToBaseline = perRound.map(({ b, peer }) => peer.rps / b.rps);
				const twofoldToPeer = perRound.map(({ ok, peer }) => ok.rps / peer.rps);
				const cpu = perRound.map(({ ok, peer }) => peer["cpu ms/req"] / ok["cpu ms/req"]);
				const { betterAuth, twofold } = replay;
				return [
					...(ranOut.length > 0 ? [`warning: better-auth ran out of prepared sign-ins in round(s) ${ranOut.join(", ")}: its figures there count failed requests, raise BENCH_PEER_USERS`] : []),
					`better-auth CPU ms per verify-totp / Twofold's per verify: ${ratio(median(cpu))} (per round ${cpu.map(ratio).join(" ")})`,
					`replayed code: better-auth ${BETTER_AUTH_VERSION}, one user signed in twice, the same TOTP code in the same step with each pending cookie: ${betterAuth.first}, then ${betterAuth.second}` +
						` (${betterAuth.acceptedTwice ? "accepted twice" : "not accepted twice"}); Twofold, one user's code sent twice: ${twofold.first}, then ${twofold.second}`,
					`better-auth verify-totp/baseline ratio: ${ratio(median(peerToBaseline))} (per round ${peerToBaseline.map(ratio).join(" ")})`,
					`twofold/better-auth ratio: ${ratio(median(twofoldToPeer))} (per round ${twofoldToPeer.map(ratio).join(" ")})`,
				];
			},
		};
	} catch (error) {
		await server.stop();
		throw error;
	}
}
