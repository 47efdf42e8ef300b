import type { FastifyPluginAsync } from "fastify";
import { PROMPT_SCRIPT } from "../../pages/prompt-script.js";
import { STYLESHEET, themeStylesheet } from "../../pages/stylesheet.js";
import type { Services } from "../../services/services.js";
import { buildModule } from "./browser-helper.js";

/**
 * The prompt's static assets, all same-origin (no CDN, no font from elsewhere): the stylesheet, the small module
 * for copy and print, the passkey module (@simplewebauthn/browser as /v1/browser.js serves it, plus the driver of
 * the pages' passkey buttons), and each tenant's colour as a stylesheet of its own, so no page needs an inline
 * style and the CSP's style-src stays 'self'.
 */
export const PROMPT_ASSETS = {
	stylesheet: "/prompt/assets/prompt.css",
	script: "/prompt/assets/prompt.js",
	passkeyScript: "/prompt/assets/passkey.js",
	theme: (tenantId: string, colour: string) => `/prompt/theme/${encodeURIComponent(tenantId)}.css?c=${colour.slice(1).toLowerCase()}`,
} as const;

const PASSKEY_DRIVER = `
for (const button of document.querySelectorAll("button[data-passkey]")) {
	if (!lib.browserSupportsWebAuthn()) continue;
	button.hidden = false;
	button.addEventListener("click", async () => {
		const form = button.form;
		const options = JSON.parse(button.dataset.options);
		button.disabled = true;
		try {
			const response = button.dataset.passkey === "register" ? await register(options) : await authenticate(options);
			form.elements.credential.value = JSON.stringify(response);
			form.submit();
		} catch {
			// Cancelled or refused by the browser: the page stays, with its other ways.
			button.disabled = false;
		}
	});
}
`;

export function promptAssetRoutes(services: Services): FastifyPluginAsync {
	const passkey = `${buildModule()}${PASSKEY_DRIVER}`;
	const headers = { "x-content-type-options": "nosniff", "cache-control": "public, max-age=300", "cross-origin-resource-policy": "same-origin" };
	return async (app) => {
		app.get(PROMPT_ASSETS.stylesheet, { schema: { hide: true } }, async (_request, reply) => reply.headers(headers).type("text/css; charset=utf-8").send(STYLESHEET));
		app.get(PROMPT_ASSETS.script, { schema: { hide: true } }, async (_request, reply) => reply.headers(headers).type("text/javascript; charset=utf-8").send(PROMPT_SCRIPT));
		app.get(PROMPT_ASSETS.passkeyScript, { schema: { hide: true } }, async (_request, reply) => reply.headers(headers).type("text/javascript; charset=utf-8").send(passkey));
		app.get<{ Params: { file: string } }>("/prompt/theme/:file", { schema: { hide: true } }, async (request, reply) => {
			const tenantId = request.params.file.endsWith(".css") ? request.params.file.slice(0, -4) : "";
			const tenant = tenantId === "" ? undefined : await services.deps.store.tenants.find(tenantId);
			const branding = tenant === undefined ? undefined : (JSON.parse(tenant.settings) as { branding?: { primary_color?: unknown } }).branding;
			// An unknown tenant or no colour: an empty sheet, so the page keeps the default colour and learns nothing.
			const css = themeStylesheet(branding?.primary_color) ?? "";
			return reply.headers(headers).type("text/css; charset=utf-8").send(css);
		});
	};
}
