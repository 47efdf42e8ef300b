import type { ComponentChildren } from "preact";
import { renderToString } from "preact-render-to-string";
import { directionOf } from "./i18n.js";
import type { PageContext } from "./view.js";

/**
 * Every prompt page's frame: lang and dir on <html>, the tenant's name and logo, who asks ("X asks you to confirm
 * it's you"), the same-origin stylesheets, and module scripts carrying the response's nonce. Scripts only enhance
 * (copy, print, passkeys); every form works without them.
 */
export function Layout({ page, title, children, passkey }: { page: PageContext; title: string; children: ComponentChildren; passkey?: boolean }) {
	const tenantName = page.tenant.name;
	return (
		<html lang={page.locale} dir={directionOf(page.locale)}>
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<meta name="referrer" content="no-referrer" />
				<title>{page.t("layout.title", { page: title, tenant: tenantName })}</title>
				<link rel="stylesheet" href={page.assets.stylesheet} />
				{page.assets.theme === null ? null : <link rel="stylesheet" href={page.assets.theme} />}
				<script type="module" src={page.assets.script} nonce={page.nonce} />
				{passkey === true ? <script type="module" src={page.assets.passkeyScript} nonce={page.nonce} /> : null}
			</head>
			<body>
				<header class="masthead">
					{page.tenant.logoUrl === null ? null : <img class="logo" src={page.tenant.logoUrl} alt="" width={40} height={40} />}
					<span class="tenant-name" id="tenant-name">
						{tenantName}
					</span>
				</header>
				<main class="page" id="main">
					<p class="asks" id="asks">
						{page.client.logoUrl === null ? null : <img class="client-logo" src={page.client.logoUrl} alt="" width={24} height={24} />}
						{page.t("layout.asks", { client: page.client.name })}
					</p>
					{children}
				</main>
			</body>
		</html>
	);
}

/** The HTML document: a doctype and the escaped render (preact-render-to-string escapes text and attributes). */
export function renderDocument(tree: ComponentChildren): string {
	return `<!doctype html>${renderToString(<>{tree}</>)}`;
}
