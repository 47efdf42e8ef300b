/**
 * Where the API reference (/docs) sends a reader for the prose behind it. The
 * repository is the one named in the packages' package.json `repository`;
 * the server ships without the docs folder, so the links are absolute.
 */
export const DOCS_BASE_URL = "https://github.com/twofold-2fa/twofold/blob/main/docs/";

/** A Markdown link to docs/errors.md, as the error schema's description shows it. */
export const ERRORS_LINK = `[docs/errors.md](${DOCS_BASE_URL}errors.md)`;
