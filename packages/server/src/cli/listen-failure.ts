import type { Config } from "../config.js";

/**
 * The one-line reason `serve` could not bind, naming the address and the variable that changes it; null for any
 * other error (which keeps its stack). A raw EADDRINUSE stack told a first-time user nothing they could act on.
 */
export function listenFailure(error: unknown, config: Pick<Config, "host" | "port">): string | null {
	const code = (error as NodeJS.ErrnoException | undefined)?.code;
	const where = `${config.host.includes(":") ? `[${config.host}]` : config.host}:${config.port}`;
	switch (code) {
		case "EADDRINUSE":
			return `cannot listen on ${where}: the port is already in use (EADDRINUSE); stop what holds it or set TWOFOLD_PORT to a free port`;
		case "EACCES":
			return `cannot listen on ${where}: permission denied (EACCES); ports below 1024 need privileges, set TWOFOLD_PORT to 1024 or above`;
		case "EADDRNOTAVAIL":
			return `cannot listen on ${where}: the address is not on this machine (EADDRNOTAVAIL); set TWOFOLD_HOST to one of its addresses`;
		case "ENOTFOUND":
		case "EAI_AGAIN":
			return `cannot listen on ${where}: the host name does not resolve (${code}); set TWOFOLD_HOST to an address of this machine`;
		default:
			return null;
	}
}
