import type { FastifyPluginAsync } from "fastify";
import { ERROR_CODES } from "../../contract/errors.js";
import { ERRORS_PAGE } from "../../contract/schemas/docs-links.js";

const escapeHTML = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The error catalog as a page beside the API reference (issue 13): the reference links here, on Twofold's own
 * origin, rather than to a repository address that may not be the operator's (or anyone's) to trust. Made
 * from the catalog itself, so it cannot drift; docs/errors.md in the source says the same with more prose.
 * Static HTML with no script or style: the strictest CSP applies.
 */
export function errorCatalogRoutes(): FastifyPluginAsync {
	const rows = Object.entries(ERROR_CODES)
		.map(([code, { status, message }]) => `<tr id="${code}"><td><code>${code}</code></td><td>${status}</td><td>${escapeHTML(message)}</td></tr>`)
		.join("\n");
	const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Twofold error codes</title></head>
<body><main>
<h1>Twofold error codes</h1>
<p>Every error response has the body <code>{"error": {"code": "…", "message": "…"}}</code>; a 400 also carries
<code>details</code>, one entry per problem, each with <code>in</code>, a JSON <code>pointer</code> (RFC 6901) and what was expected.
Match on <code>code</code>, never on <code>message</code>: codes are a contract and are never renamed.
<a href="/docs">Back to the API reference</a>.</p>
<table><thead><tr><th scope="col">Code</th><th scope="col">HTTP status</th><th scope="col">Message</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</main></body></html>
`;
	return async (app) => {
		app.get(ERRORS_PAGE, { schema: { hide: true } }, async (_request, reply) =>
			reply.header("content-type", "text/html; charset=utf-8").header("content-security-policy", "default-src 'none'; frame-ancestors 'none'").send(page),
		);
	};
}
