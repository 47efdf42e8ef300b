/** The longest path a log line carries; a 10 kB path is an attack, and the log needs only its start. */
export const LOGGED_PATH_MAX = 256;

/**
 * A request URL as it may appear in a log line (R-ST-4, issue 12): the query
 * string is replaced whole, because callers put keys and codes in it
 * (`?api_key=…`) and even a parameter's name can be a secret. The path is cut
 * to LOGGED_PATH_MAX characters.
 */
export function urlForLog(url: string | undefined): string | undefined {
	if (url === undefined) return undefined;
	const queryAt = url.search(/[?#]/);
	const path = queryAt === -1 ? url : url.slice(0, queryAt);
	const shortPath = path.length > LOGGED_PATH_MAX ? `${path.slice(0, LOGGED_PATH_MAX)}…[${path.length - LOGGED_PATH_MAX} more]` : path;
	return queryAt === -1 ? shortPath : `${shortPath}?[redacted]`;
}
