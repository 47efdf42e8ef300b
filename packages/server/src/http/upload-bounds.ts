import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";

/**
 * Sockets whose current request is an admin's upload (POST /v1/imports, issue 17): the service-wide request timeout
 * (issue 12) does not cut them; the upload's own bounds below do. A socket is added only after its API key was found
 * to be an admin's, so an unauthenticated or non-admin slow body is still cut by the normal timeout
 * (server.ts answerClientError consults this set).
 */
export type LongUploads = WeakSet<Socket>;

export class UploadBoundError extends Error {
	constructor(readonly code: "import_too_large" | "import_timeout") {
		super(code === "import_too_large" ? "the upload is larger than TWOFOLD_IMPORT_MAX_BYTES" : "the upload was too slow (TWOFOLD_IMPORT_IDLE_MS or TWOFOLD_IMPORT_MAX_MS)");
		this.name = "UploadBoundError";
	}
}

export interface UploadBounds {
	maxBytes: number;
	maxMs: number;
	idleMs: number;
}

/**
 * The body as chunks, cut at `maxBytes` (counted as they arrive, so a chunked body without Content-Length is bounded
 * too), when no chunk came for `idleMs`, or after `maxMs` in all. The first bound that trips is kept in `tripped`: the
 * caller answers 413 or 408 with it whatever the consumer made of the error. The stream is paused, not destroyed, on a
 * trip: destroying a request destroys its socket, and the client would get no answer at all.
 */
export function boundedBody(stream: IncomingMessage, bounds: UploadBounds) {
	let tripped: UploadBoundError | undefined;
	let bytes = 0;
	let wake: ((error: UploadBoundError) => void) | undefined;
	const trip = (error: UploadBoundError): void => {
		tripped ??= error;
		stream.pause();
		wake?.(tripped);
	};
	let idle: NodeJS.Timeout | undefined;
	const total = setTimeout(() => trip(new UploadBoundError("import_timeout")), bounds.maxMs);
	const stop = (): void => {
		clearTimeout(idle);
		clearTimeout(total);
	};
	const source = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
	/** The next chunk, or the bound that tripped while waiting for it (the idle clock runs only while waiting). */
	const next = (): Promise<IteratorResult<Buffer>> =>
		new Promise((resolve, reject) => {
			if (tripped !== undefined) return reject(tripped);
			wake = reject;
			idle = setTimeout(() => trip(new UploadBoundError("import_timeout")), bounds.idleMs);
			source.next().then(resolve, reject);
		}).finally(() => {
			clearTimeout(idle);
			wake = undefined;
		}) as Promise<IteratorResult<Buffer>>;
	async function* chunks(): AsyncGenerator<Uint8Array> {
		try {
			for (let result = await next(); result.done !== true; result = await next()) {
				bytes += result.value.length;
				if (bytes > bounds.maxBytes) {
					trip(new UploadBoundError("import_too_large"));
					throw tripped;
				}
				yield result.value;
			}
		} catch (error) {
			throw tripped ?? error;
		} finally {
			stop();
		}
	}
	return {
		chunks: chunks(),
		tripped: (): UploadBoundError | undefined => tripped,
		stop,
	};
}
