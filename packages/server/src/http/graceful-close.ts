import type { FastifyInstance } from "fastify";

/** In-flight requests get this long to finish once shutdown starts; then their connections are cut. */
const DRAIN_DEADLINE_MS = 10_000;
const IDLE_SWEEP_MS = 100;

/**
 * Graceful shutdown (issue 6). Fastify's close stops accepting and answers new
 * requests 503, but a keep-alive connection that was busy when close began
 * stays open after its response, and clients keep such sockets for as long as
 * the server's keep-alive hint (72 s): close would wait for them. So while
 * closing, every response says `Connection: close`, idle connections are
 * swept, and after DRAIN_DEADLINE_MS the rest are cut. Requests already being
 * handled are answered first: their effects are committed before the answer.
 */
export function registerGracefulClose(app: FastifyInstance): void {
	let closing = false;
	let sweep: NodeJS.Timeout | undefined;
	let deadline: NodeJS.Timeout | undefined;
	app.addHook("onSend", (_request, reply, payload, done) => {
		if (closing) reply.header("connection", "close");
		done(null, payload);
	});
	app.addHook("preClose", (done) => {
		closing = true;
		sweep = setInterval(() => app.server.closeIdleConnections(), IDLE_SWEEP_MS).unref();
		deadline = setTimeout(() => app.server.closeAllConnections(), DRAIN_DEADLINE_MS).unref();
		done();
	});
	app.addHook("onClose", (_instance, done) => {
		clearInterval(sweep);
		clearTimeout(deadline);
		done();
	});
}
