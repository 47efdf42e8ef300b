import cliProgress from "cli-progress";
import type { ImportProgress } from "../services/import-types.js";

/** How the CLI shows an import's progress (issue 17): a bar on a terminal, a line every few seconds otherwise, nothing with --json. */
export interface ProgressView {
	update(progress: ImportProgress): void;
	stop(): void;
}

const LINE_EVERY_MS = 5000;

export function progressView(mode: "bar" | "lines" | "none", name: string, totalBytes: number | undefined, write: (line: string) => void, now: () => number = Date.now): ProgressView {
	if (mode === "none") return { update() {}, stop() {} };
	const started = now();
	const rate = (users: number): string => {
		const seconds = (now() - started) / 1000;
		return seconds > 0 ? String(Math.round(users / seconds)) : "0";
	};
	if (mode === "bar" && totalBytes !== undefined && totalBytes > 0) {
		// The bar counts bytes of the file (the total is known up front); ETA follows from the byte rate.
		const bar = new cliProgress.SingleBar(
			{ format: `${name} [{bar}] {percentage}% | {users} users, {rate} users/s | ETA {eta_formatted}`, stream: process.stderr, etaBuffer: 50, hideCursor: true },
			cliProgress.Presets.shades_classic,
		);
		bar.start(totalBytes, 0, { users: 0, rate: "0" });
		return {
			update: (progress) => bar.update(Math.min(progress.bytes, totalBytes), { users: progress.users, rate: rate(progress.users) }),
			stop: () => bar.stop(),
		};
	}
	let last = started;
	let latest: ImportProgress | undefined;
	const line = (progress: ImportProgress): string => {
		const share = totalBytes !== undefined && totalBytes > 0 ? ` (${Math.floor((100 * progress.bytes) / totalBytes)}%)` : "";
		return `${name}: ${mib(progress.bytes)}${totalBytes === undefined ? "" : ` of ${mib(totalBytes)}`}${share}, ${progress.records} records, ${progress.users} users, ${rate(progress.users)} users/s`;
	};
	return {
		update(progress) {
			latest = progress;
			if (now() - last < LINE_EVERY_MS) return;
			last = now();
			write(line(progress));
		},
		// The last line always: a log of the run says how far it got even when it took less than one interval.
		stop() {
			if (latest !== undefined) write(line(latest));
		},
	};
}

function mib(bytes: number): string {
	return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
