import { readFileSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** Descriptors kept for everything but client sockets: the database files, PostgreSQL and Redis pools, the listener, stdio, libuv. */
const RESERVED_DESCRIPTORS = 128;
/** The cap when the open-file limit is high or unknown. */
const DEFAULT_MAX_CONNECTIONS = 4096;

/**
 * The default cap: below the process's soft open-file limit (RLIMIT_NOFILE,
 * read from /proc/self/limits), so that a full house of client sockets still
 * leaves descriptors for the database and the listener. The attack review's
 * instance had 1,024 descriptors: the cap there is 896.
 */
export function defaultMaxConnections(limitsText: string | null = readLimits()): number {
	const match = limitsText === null ? null : /^Max open files\s+(\d+|unlimited)/m.exec(limitsText);
	if (match === null || match[1] === "unlimited") return DEFAULT_MAX_CONNECTIONS;
	return Math.max(16, Math.min(DEFAULT_MAX_CONNECTIONS, Number(match[1]) - RESERVED_DESCRIPTORS));
}

function readLimits(): string | null {
	try {
		return readFileSync("/proc/self/limits", "utf8");
	} catch {
		return null;
	}
}

interface Tracked {
	/** When the connection last stopped being served: its accept, or the end of its last response. */
	since: number;
	request: IncomingMessage | null;
	response: ServerResponse | null;
}

export interface ConnectionGuardOptions {
	maxConnections: number;
	/** A monotonic clock in milliseconds. */
	now(): number;
	/** Called at most once per summaryIntervalMs while the cap is being hit, with what happened since the last call. */
	onCapReached(summary: { maxConnections: number; evicted: number; refused: number }): void;
	summaryIntervalMs?: number;
}

export interface ConnectionGuard {
	open(): number;
	/** Whether a response has started on this socket (a client error must then not write a second one). */
	responseStarted(socket: Socket): boolean;
}

/**
 * Caps the open connections of one process (issue 12 finding 4) without
 * starving health checks, which a plain server.maxConnections would do: when a
 * new connection would exceed the cap, the connection that has been waiting on
 * its client the longest is closed instead. Waiting on the client means: idle
 * between keep-alive requests, still sending headers, still sending a body, or
 * still reading a response that was written in full. A request whose body has
 * arrived and whose answer is being computed is never evicted: that is the
 * service's work, bounded by its own timeouts. Only when every connection is
 * such a request is the new connection refused.
 *
 * The timeouts (headers, request, keep-alive) close a slow client within a
 * bound whatever the load; this cap is what protects the descriptors in the
 * meantime, when slow clients arrive faster than the timeouts let them go.
 */
export function guardConnections(server: Server, options: ConnectionGuardOptions): ConnectionGuard {
	const tracked = new Map<Socket, Tracked>();
	const interval = options.summaryIntervalMs ?? 10_000;
	let evicted = 0;
	let refused = 0;
	let lastSummary = -Infinity;
	let summaryTimer: NodeJS.Timeout | undefined;

	const flush = (): void => {
		summaryTimer = undefined;
		if (evicted === 0 && refused === 0) return;
		lastSummary = options.now();
		options.onCapReached({ maxConnections: options.maxConnections, evicted, refused });
		evicted = 0;
		refused = 0;
	};
	const report = (): void => {
		if (summaryTimer !== undefined) return;
		const wait = lastSummary + interval - options.now();
		if (wait <= 0) flush();
		else summaryTimer = setTimeout(flush, wait).unref();
	};

	/** Waiting on the client, so a candidate for eviction (see above). */
	const waitingOnClient = (entry: Tracked): boolean =>
		entry.request === null || !entry.request.complete || (entry.response !== null && entry.response.headersSent);

	server.on("connection", (socket: Socket) => {
		if (tracked.size >= options.maxConnections) {
			let victim: [Socket, Tracked] | undefined;
			for (const candidate of tracked) {
				if (candidate[0].destroyed || !waitingOnClient(candidate[1])) continue;
				if (victim === undefined || candidate[1].since < victim[1].since) victim = candidate;
			}
			if (victim === undefined) {
				refused++;
				report();
				socket.destroy();
				return;
			}
			evicted++;
			report();
			tracked.delete(victim[0]);
			victim[0].destroy();
		}
		tracked.set(socket, { since: options.now(), request: null, response: null });
		socket.once("close", () => tracked.delete(socket));
	});

	server.on("request", (request: IncomingMessage, response: ServerResponse) => {
		const entry = tracked.get(request.socket);
		if (entry === undefined) return;
		entry.request = request;
		entry.response = response;
		const done = (): void => {
			if (entry.response !== response) return;
			// A request whose body never finished stays a candidate, dated from before it.
			if (!request.complete) return;
			entry.request = null;
			entry.response = null;
			entry.since = options.now();
		};
		response.once("finish", done);
		response.once("close", done);
	});

	server.on("close", () => clearTimeout(summaryTimer));

	return {
		open: () => tracked.size,
		responseStarted: (socket) => tracked.get(socket)?.response?.headersSent === true,
	};
}
