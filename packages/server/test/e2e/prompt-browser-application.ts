import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The application's side of the hosted prompt, reduced to what a browser reaches: its redirect URI, served on loopback
 * by a tiny HTTP server (the backend's half, PAR and the code exchange, is the test itself). It records every
 * callback it receives and answers with a page the test can recognise.
 */
export interface Application {
	redirectUri: string;
	/** Every callback URL the browser brought, in order. */
	callbacks: URL[];
	close(): Promise<void>;
}

export async function startApplication(): Promise<Application> {
	const callbacks: URL[] = [];
	const server = createServer((request, response) => {
		const url = new URL(request.url ?? "/", `http://${request.headers.host}`);
		if (url.pathname === "/callback") callbacks.push(url);
		response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
		response.end('<!doctype html><html lang="en"><head><title>Shop</title></head><body><h1>Back at the shop</h1></body></html>');
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	return {
		redirectUri: `http://127.0.0.1:${port}/callback`,
		callbacks,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}
