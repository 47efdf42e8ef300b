/**
 * Where the API reference (/docs) sends a reader for the error codes: a page Twofold serves itself
 * (http/routes/error-catalog.ts), so the link stays on the operator's own origin and works in a packed server,
 * which ships without the repository's docs folder.
 */
export const ERRORS_PAGE = "/docs/errors";

/** A Markdown link to the error catalog, as the error schema's description shows it. */
export const ERRORS_LINK = `[the error catalog (docs/errors.md)](${ERRORS_PAGE})`;
