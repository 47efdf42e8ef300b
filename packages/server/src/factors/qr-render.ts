import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/**
 * QR codes rendered on worker threads (issue 12 finding 8). A PNG takes about
 * 18 ms of CPU; on the event loop, one tenant enrolling 49 a second raised
 * another tenant's verify median from 2.9 ms to 49 ms. Same library and
 * options as before, so the images are the same; only the thread changes.
 * The otpauth URI (it holds the seed) goes to a thread of this process, never
 * to anything outside it (V-13).
 */

/** Resolved here, so the worker loads the same copy whatever the working directory (and under the test runner). */
const QRCODE_PATH = createRequire(import.meta.url).resolve("qrcode");

/** The worker's code, evaluated as a CommonJS script: no file of its own to find next to the compiled one. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const QRCode = require(workerData.qrcodePath);
parentPort.on("message", async ({ id, text }) => {
	try {
		const [svg, png] = await Promise.all([
			QRCode.toString(text, { type: "svg", errorCorrectionLevel: "M", margin: 2 }),
			QRCode.toDataURL(text, { errorCorrectionLevel: "M", margin: 2, scale: 6 }),
		]);
		parentPort.postMessage({ id, svg, png });
	} catch (error) {
		parentPort.postMessage({ id, error: String((error && error.message) || error) });
	}
});
`;

interface Pending {
	resolve(images: { svg: string; png: string }): void;
	reject(error: Error): void;
}

interface PooledWorker {
	worker: Worker;
	pending: Map<number, Pending>;
}

/** One core stays with the event loop; at most four renderers. */
const POOL_SIZE = Math.max(1, Math.min(4, availableParallelism() - 1));
const pool: PooledWorker[] = [];
let nextId = 0;

function spawnWorker(): PooledWorker {
	const entry: PooledWorker = { worker: new Worker(WORKER_SOURCE, { eval: true, workerData: { qrcodePath: QRCODE_PATH } }), pending: new Map() };
	entry.worker.on("message", (message: { id: number; svg?: string; png?: string; error?: string }) => {
		const waiting = entry.pending.get(message.id);
		if (waiting === undefined) return;
		entry.pending.delete(message.id);
		if (entry.pending.size === 0) entry.worker.unref();
		if (message.error !== undefined || message.svg === undefined || message.png === undefined) waiting.reject(new Error(`QR rendering failed: ${message.error ?? "no image"}`));
		else waiting.resolve({ svg: message.svg, png: message.png });
	});
	const fail = (error: Error): void => {
		const index = pool.indexOf(entry);
		if (index !== -1) pool.splice(index, 1);
		for (const waiting of entry.pending.values()) waiting.reject(error);
		entry.pending.clear();
	};
	entry.worker.on("error", fail);
	entry.worker.on("exit", (code) => fail(new Error(`QR renderer exited with code ${code}`)));
	// An idle renderer does not keep the process alive (serve after SIGTERM, the CLI, a test run); a busy one
	// does (renderQR refs it), or a caller awaiting nothing else would see the process end under it.
	entry.worker.unref();
	pool.push(entry);
	return entry;
}

/** The least busy renderer, starting another while the pool is not full. */
function pick(): PooledWorker {
	let best: PooledWorker | undefined;
	for (const entry of pool) if (best === undefined || entry.pending.size < best.pending.size) best = entry;
	if (best === undefined || (best.pending.size > 0 && pool.length < POOL_SIZE)) return spawnWorker();
	return best;
}

/** The SVG text and the PNG data URL of a QR code for text, rendered off the event loop. */
export function renderQR(text: string): Promise<{ svg: string; png: string }> {
	const entry = pick();
	const id = nextId++;
	return new Promise((resolve, reject) => {
		if (entry.pending.size === 0) entry.worker.ref();
		entry.pending.set(id, { resolve, reject });
		entry.worker.postMessage({ id, text });
	});
}
