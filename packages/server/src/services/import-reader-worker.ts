import { parentPort, workerData } from "node:worker_threads";
import { type ImportItem, TokenFileError } from "../token-files/import-record.js";
import { readTokenFile } from "../token-files/read-token-file.js";
import { BATCHES_AHEAD, type FromReader, ITEMS_PER_BATCH, type ReaderThreadData, type ToReader } from "./import-reader-thread.js";

/**
 * The reader thread's side of import-reader-thread.ts: asks for the file's bytes a chunk or two ahead of the parser,
 * runs the format's reader over them and sends the items back in batches, at most BATCHES_AHEAD unacknowledged.
 */

const port = parentPort;
if (port === null) throw new Error("import-reader-worker runs as a worker thread of the import service");
const { format, options } = workerData as ReaderThreadData;

const chunks: Uint8Array[] = [];
let inputEnded = false;
let unacknowledged = 0;
let wake: (() => void) | undefined;
const waitForMessage = (): Promise<void> =>
	new Promise<void>((resolve) => {
		wake = resolve;
	});

port.on("message", (message: ToReader) => {
	if (message.type === "chunk") chunks.push(new Uint8Array(message.bytes));
	else if (message.type === "end") inputEnded = true;
	else unacknowledged -= 1;
	const waiting = wake;
	wake = undefined;
	waiting?.();
});

const send = (message: FromReader, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

let batch: ImportItem[] = [];
/** Sends the gathered items: each secret in a buffer of its own, moved; the reader's copy zeroed (R-ST-1). */
function flush(): void {
	if (batch.length === 0) return;
	const transfer: ArrayBuffer[] = [];
	for (const item of batch) {
		if (item.kind !== "record") continue;
		const own = new Uint8Array(item.record.secret);
		item.record.secret.fill(0);
		item.record.secret = own;
		transfer.push(own.buffer);
	}
	send({ type: "items", items: batch }, transfer);
	batch = [];
	unacknowledged += 1;
}

/** The file's bytes as the main thread sends them; two chunks are asked for ahead, so reading and parsing overlap. */
async function* bytes(): AsyncGenerator<Uint8Array, void, undefined> {
	send({ type: "more" });
	send({ type: "more" });
	for (;;) {
		const chunk = chunks.shift();
		if (chunk !== undefined) {
			if (!inputEnded) send({ type: "more" });
			yield chunk;
			continue;
		}
		if (inputEnded) return;
		// Waiting for input (a slow upload, a pipe): what is parsed so far goes now rather than after the next chunk.
		flush();
		await waitForMessage();
	}
}

try {
	for await (const item of readTokenFile(bytes(), format, options)) {
		batch.push(item);
		if (batch.length >= ITEMS_PER_BATCH) flush();
		// Batches also go out short, while the input is awaited (bytes() below): the bound counts them all.
		while (unacknowledged >= BATCHES_AHEAD) await waitForMessage();
	}
	flush();
	send({ type: "done" });
} catch (error) {
	flush();
	const fault = error instanceof TokenFileError ? { code: error.code, reason: error.reason, location: error.location } : undefined;
	// An unexpected error's name and message only (never its data, which may hold a record).
	send({ type: "error", ...(fault === undefined ? {} : { fault }), name: error instanceof Error ? error.name : "Error", message: error instanceof Error ? error.message : String(error) });
} finally {
	options.preSharedKey?.fill(0);
	port.close();
}
