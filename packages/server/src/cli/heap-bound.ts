import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * Keeps a long import's heap near what it really holds (issue 17: 100,000 users under 250 MB peak RSS). V8 grows the
 * old generation lazily when garbage is plentiful (each record's strings and buffers), so a streaming import's
 * resident size climbs well past its live data (measured: 306 MB for 100,000 users, against 213 MB with the heap held
 * to 96 MB). The CLI cannot pass --max-old-space-size to its own process (bin/twofold.js is started by npm and the
 * shell), so it asks for the garbage collector at run time and runs a full collection, when called (after each
 * batch), only if the heap in use is over `limitBytes`, or `stepBytes` over what the last collection left (when the
 * live data itself is larger): V8's own young-generation collections still do most of the work.
 */
export function heapBound(limitBytes = 80 * 1024 * 1024, stepBytes = 32 * 1024 * 1024): () => void {
	const gc = collector();
	if (gc === undefined) return () => {};
	let floor = 0;
	return () => {
		const used = getHeapStatistics().used_heap_size;
		if (used < Math.max(limitBytes, floor + stepBytes)) return;
		gc();
		floor = getHeapStatistics().used_heap_size;
	};
}

function collector(): (() => void) | undefined {
	const exposed = (globalThis as { gc?: () => void }).gc;
	if (typeof exposed === "function") return exposed;
	try {
		// The flag is read when a context is created: a new context then has `gc`, which collects the whole heap.
		setFlagsFromString("--expose-gc");
		const gc = runInNewContext("gc") as unknown;
		return typeof gc === "function" ? (gc as () => void) : undefined;
	} catch {
		return undefined;
	}
}
