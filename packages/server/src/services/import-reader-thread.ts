import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type ImportFormat, type ImportItem, type ReadOptions, TokenFileError } from "../token-files/import-record.js";

/**
 * A token file read on a worker thread (issue 17): the file's bytes go to the thread as they arrive, its items come
 * back in file order, while this thread writes the batches before them. Parsing is most of an import's CPU (a 99 MB
 * PSKC file of 100,000 users: about 17 s in the reader, 70% of it in the XML parser, against 13 s for everything
 * else, measured), so on two cores the two halves overlap; and the server's event loop keeps answering verifies
 * while an upload is parsed. The readers themselves (token-files/) are the same; only the thread changes.
 *
 * Secrets (R-ST-1): each record's secret crosses in an ArrayBuffer of its own, moved (transferred), and the reader's
 * copy is zeroed in the thread once sent; here the consumer zeroes what it took, and what it did not take is zeroed
 * when the reading ends. The file's bytes and the passphrase go to a thread of this process only (V-13).
 */

/** What this thread sends to the reader thread. */
export type ToReader = { type: "chunk"; bytes: ArrayBuffer } | { type: "end" } | { type: "ack" };

/** What the reader thread sends back, in this order: items (any number of batches), then done or error. */
export type FromReader =
	| { type: "more" }
	| { type: "items"; items: ImportItem[] }
	| { type: "done" }
	| { type: "error"; fault?: { code: string; reason: string; location: string }; name: string; message: string };

export interface ReaderThreadData {
	format: ImportFormat;
	options: ReadOptions;
}

/** Batches the reader thread may send ahead of the consumer: bounds the memory between them (about 4 × 256 records). */
export const BATCHES_AHEAD = 4;
/** Items per message: one message a record would cost more than the parsing saved. */
export const ITEMS_PER_BATCH = 256;

/**
 * The compiled worker next to this module. Under the test runner this module is the TypeScript source, which a
 * worker thread cannot load; the thread then runs the compiled copy in dist/ (`npm test` builds first).
 */
function workerFile(): string {
	const here = fileURLToPath(import.meta.url);
	if (!here.endsWith(".ts")) return join(dirname(here), "import-reader-worker.js");
	return join(dirname(here), "..", "..", "dist", "services", "import-reader-worker.js");
}

/**
 * The items of one token file, read by its format's reader (token-files/read-token-file.ts) on a worker thread. The
 * same contract as readTokenFile: items in file order; a TokenFileError where the file is at fault, after the items
 * before it; an error of the input (an upload too large or too slow, a client gone) is thrown as it was thrown.
 */
export async function* readTokenFileOnThread(input: AsyncIterable<Uint8Array>, format: ImportFormat, options: ReadOptions): AsyncGenerator<ImportItem, void, undefined> {
	// The reading options alone (the caller's may carry more, such as an AbortSignal, which cannot cross).
	const { userColumn, userFrom, passphrase, preSharedKey } = options;
	const read: ReadOptions = {
		...(userColumn === undefined ? {} : { userColumn }),
		...(userFrom === undefined ? {} : { userFrom }),
		...(passphrase === undefined ? {} : { passphrase }),
		...(preSharedKey === undefined ? {} : { preSharedKey }),
	};
	const data: ReaderThreadData = { format, options: read };
	// The old generation is bounded: the reader holds at most a few chunks and one KeyPackage (64 KiB per text node,
	// 256 KiB per package); a runaway shows as a failed job, not a swollen server.
	const worker = new Worker(workerFile(), { workerData: data, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } });
	const iterator = input[Symbol.asyncIterator]();
	const batches: ImportItem[][] = [];
	let current: ImportItem[] | undefined;
	let finished = false;
	let failure: unknown;
	let inputEnded = false;
	let wanted = 0;
	let pumping = false;
	let wake: (() => void) | undefined;
	const notify = (): void => {
		const waiting = wake;
		wake = undefined;
		waiting?.();
	};
	const fail = (error: unknown): void => {
		if (failure === undefined && !finished) failure = error;
		notify();
	};

	// The input is read only as the thread asks for it (a chunk or two ahead of its parser): a slow upload or a pipe
	// is never read faster than it is parsed.
	const pump = async (): Promise<void> => {
		if (pumping) return;
		pumping = true;
		try {
			while (wanted > 0 && !inputEnded && failure === undefined) {
				const next = await iterator.next();
				if (next.done === true) {
					inputEnded = true;
					worker.postMessage({ type: "end" } satisfies ToReader);
					break;
				}
				wanted -= 1;
				// A copy of its own (a chunk may be a view into a larger shared buffer), moved to the thread.
				const bytes = new Uint8Array(next.value);
				worker.postMessage({ type: "chunk", bytes: bytes.buffer } satisfies ToReader, [bytes.buffer]);
			}
		} catch (error) {
			inputEnded = true;
			fail(error);
		} finally {
			pumping = false;
		}
	};

	worker.on("message", (message: FromReader) => {
		switch (message.type) {
			case "more":
				wanted += 1;
				void pump();
				return;
			case "items":
				batches.push(message.items);
				break;
			case "done":
				finished = true;
				break;
			case "error":
				fail(message.fault === undefined ? Object.assign(new Error(message.message), { name: message.name }) : new TokenFileError(message.fault.code, message.fault.reason, message.fault.location));
				break;
		}
		notify();
	});
	worker.on("error", fail);
	worker.on("exit", (code) => fail(new Error(`the token-file reader thread ended (exit code ${code}) before the end of the file`)));

	try {
		for (;;) {
			current = batches.shift();
			if (current !== undefined) {
				for (const item of current) yield item;
				current = undefined;
				worker.postMessage({ type: "ack" } satisfies ToReader);
				continue;
			}
			if (failure !== undefined) throw failure;
			if (finished) return;
			await new Promise<void>((resolve) => {
				wake = resolve;
			});
		}
	} finally {
		// What the consumer did not take (it stopped, or the file failed) is zeroed here (R-ST-1).
		for (const batch of current === undefined ? batches : [current, ...batches]) {
			for (const item of batch) if (item.kind === "record") item.record.secret.fill(0);
		}
		batches.length = 0;
		worker.removeAllListeners("exit");
		await worker.terminate();
		if (!inputEnded) await Promise.resolve(iterator.return?.()).catch(() => undefined);
	}
}
