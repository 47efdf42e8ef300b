import type { IncomingMessage } from "node:http";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { described, errorResponses } from "../../contract/schemas/common.js";
import { IMPORT_FORMAT_NAMES, ImportList, ImportListQuery, ImportParams, ImportQuery, ImportReport } from "../../contract/schemas/imports.js";
import { ServiceError } from "../../contract/service-error.js";
import { getImportJob, listImportJobs, runImport } from "../../services/imports.js";
import type { ImportOptions } from "../../services/import-types.js";
import type { Services } from "../../services/services.js";
import { tenantOf } from "../auth.js";
import { sendError } from "../errors.js";
import { boundedBody, type LongUploads, type UploadBounds } from "../upload-bounds.js";

// The contract's list of formats and the readers' are the same list (each assignable to the other).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const FORMATS_AGREE: Same<(typeof IMPORT_FORMAT_NAMES)[number] | "auto", ImportOptions["format"]> = true;
void FORMATS_AGREE;

const security = [{ apiKey: [] }];
const tags = ["imports"];

/** What a token file may be sent as; the body is read as bytes whatever the type says (the format is the query's or detected). */
export const IMPORT_CONTENT_TYPES = ["application/octet-stream", "text/csv", "application/xml", "text/xml", "application/pskc+xml", "text/plain", "application/yaml", "text/yaml"];

/** Headers that carry PSKC secrets (issue 17: never in the URL); redacted from logs (server.ts). */
export const PSKC_PASSPHRASE_HEADER = "twofold-pskc-passphrase";
export const PSKC_KEY_HEADER = "twofold-pskc-key";

/**
 * Bulk import (issue 17), admin keys only. The body is streamed into the import service, never held whole; its own
 * bounds (TWOFOLD_IMPORT_MAX_BYTES, _MAX_MS, _IDLE_MS) replace the 64 KiB body limit and the request timeout, and only
 * once the key is known to be an admin's (the onRequest hook below runs after the /v1 API-key hook).
 */
export function importRoutes(services: Services, bounds: UploadBounds, longUploads: LongUploads): FastifyPluginAsyncTypebox {
	return async (app) => {
		// This scope reads bodies as a stream; JSON and every other parser of the service stay out of it.
		app.removeAllContentTypeParsers();
		app.addContentTypeParser(IMPORT_CONTENT_TYPES, (_request, payload, done) => done(null, payload));
		// Before the body is read: a default key is refused here, so its body is never read and its socket never
		// exempted from the request timeout (the review of an earlier attempt found the timeout lifted before this check).
		app.addHook("onRequest", async (request, reply) => {
			if (request.tenant !== null && request.tenant !== undefined && request.tenant.scope !== "admin") await sendError(reply, "forbidden");
		});

		app.post(
			"/imports",
			{
				schema: {
					tags,
					summary: "Import tokens from a file (otpauth list, OATH CSV, PSKC, pi-tokenjanitor CSV, Authelia YAML) as active factors.",
					description:
						"Admin key. The body is the file (streamed). PSKC encrypted with a password: header Twofold-PSKC-Passphrase (UTF-8); with a pre-shared key: header Twofold-PSKC-Key (hex). Answers when the job is done; GET /v1/imports shows its progress meanwhile.",
					security,
					querystring: ImportQuery,
					consumes: IMPORT_CONTENT_TYPES,
					response: { 200: described("The job's report (dry_run: what would happen; nothing was written).", ReportRef), ...errorResponses },
				},
			},
			async (request, reply) => {
				const ctx = tenantOf(request);
				const raw = request.body;
				if (!isStream(raw)) return sendError(reply, "unsupported_media_type");
				const length = Number(request.headers["content-length"] ?? Number.NaN);
				if (Number.isFinite(length) && length > bounds.maxBytes) return sendError(reply, "import_too_large");
				const options = importOptions(request.query, request.headers);
				// Admin, and about to read: from here the upload's own bounds apply, not the request timeout.
				const socket = request.raw.socket;
				longUploads.add(socket);
				const body = boundedBody(raw, bounds);
				// A tripped bound leaves the rest of the body unread: the connection is closed once the answer is out, or the
				// client could go on sending into a socket Node no longer times out (it expires a request only once).
				const refuse = (code: "import_too_large" | "import_timeout") => {
					reply.header("connection", "close");
					reply.raw.once("finish", () => socket.destroy());
					return sendError(reply, code);
				};
				try {
					const report = await runImport(services.deps, ctx, body.chunks, options);
					const tripped = body.tripped();
					if (tripped !== undefined) return refuse(tripped.code);
					return report;
				} catch (error) {
					const tripped = body.tripped();
					if (tripped !== undefined) return refuse(tripped.code);
					throw error;
				} finally {
					body.stop();
					delete options.passphrase;
					options.preSharedKey?.fill(0);
					longUploads.delete(socket);
				}
			},
		);
		app.get(
			"/imports",
			{ schema: { tags, summary: "Recent import jobs, newest first; a running job shows its progress.", security, querystring: ImportListQuery, response: { 200: described("The jobs.", ImportList), ...errorResponses } } },
			async (request) => ({ imports: await listImportJobs(services.deps, tenantOf(request), { limit: Number(request.query.limit ?? 20) }) }),
		);
		app.get(
			"/imports/:import_id",
			{ schema: { tags, summary: "One import job's report (while it runs: its progress so far).", security, params: ImportParams, response: { 200: described("The job.", ReportRef), ...errorResponses } } },
			async (request) => getImportJob(services.deps, tenantOf(request), request.params.import_id),
		);
	};
}

const ReportRef = { $ref: "ImportReport#" } as unknown as typeof ImportReport;

function isStream(value: unknown): value is IncomingMessage {
	return typeof value === "object" && value !== null && typeof (value as { pipe?: unknown }).pipe === "function";
}

type Query = { format?: ImportOptions["format"]; dry_run?: "true" | "false"; user_column?: string; user_from?: "label" | "issuer-label"; replace_reason?: string };

function importOptions(query: Query, headers: Record<string, string | string[] | undefined>): ImportOptions {
	const options: ImportOptions = { format: query.format ?? "auto", dryRun: query.dry_run === "true" };
	if (query.user_column !== undefined) options.userColumn = query.user_column;
	if (query.user_from !== undefined) options.userFrom = query.user_from;
	if (query.replace_reason !== undefined) options.replaceReason = query.replace_reason;
	const passphrase = headers[PSKC_PASSPHRASE_HEADER];
	// Header values arrive as latin1 octets; the passphrase is UTF-8 (RFC 6030 §6.2 leaves the encoding to the parties).
	if (typeof passphrase === "string" && passphrase !== "") options.passphrase = Buffer.from(passphrase, "latin1").toString("utf8");
	const key = headers[PSKC_KEY_HEADER];
	if (typeof key === "string" && key !== "") {
		if (!/^(?:[0-9a-fA-F]{2}){16}$/.test(key)) {
			throw new ServiceError("invalid_request", { details: [{ in: "header", pointer: "/Twofold-PSKC-Key", message: "must be the 128-bit pre-shared key in hex (32 hex digits)" }] });
		}
		options.preSharedKey = new Uint8Array(Buffer.from(key, "hex"));
	}
	return options;
}
