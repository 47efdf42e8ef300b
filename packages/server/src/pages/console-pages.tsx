import type { ComponentChildren } from "preact";
import { ErrorSummary, PostForm, TextField } from "./components.js";
import { directionOf } from "./i18n.js";
import type { FieldError, PageContext } from "./view.js";

/**
 * The console's pages (issue 16), built like the prompt's: server-rendered, escaped by preact-render-to-string,
 * same-origin assets, a module script only where the browser must act (reading the enrollment link's fragment).
 * Every form posts with the CSRF token and works without script, except that the enrollment code must be pasted.
 */
export interface ConsoleOperatorView {
	name: string;
	role: string;
	tenants: "all" | readonly string[];
}

function ConsoleLayout({ page, title, children, script }: { page: PageContext; title: string; children: ComponentChildren; script?: string }) {
	return (
		<html lang={page.locale} dir={directionOf(page.locale)}>
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<meta name="referrer" content="no-referrer" />
				<title>{page.t("layout.title", { page: title, tenant: page.t("console.title") })}</title>
				<link rel="stylesheet" href={page.assets.stylesheet} />
				<script type="module" src={page.assets.script} nonce={page.nonce} />
				{script === undefined ? null : <script type="module" src={script} nonce={page.nonce} />}
			</head>
			<body>
				<header class="masthead">
					<span class="tenant-name" id="tenant-name">
						{page.t("console.title")}
					</span>
				</header>
				<main class="page" id="main">
					{children}
				</main>
			</body>
		</html>
	);
}

export function ConsoleSignInPage({ page, errors, name, notice }: { page: PageContext; errors: readonly FieldError[]; name?: string; notice?: string }) {
	return (
		<ConsoleLayout page={page} title={page.t("console.sign_in_title")}>
			<ErrorSummary page={page} errors={errors} />
			<h1 id="page-title">{page.t("console.sign_in_title")}</h1>
			{notice === undefined ? null : (
				<p class="notice" id="notice" role="status">
					{notice}
				</p>
			)}
			<p class="lead">{page.t("console.sign_in_lead")}</p>
			<PostForm page={page} action="/sign-in" id="sign-in-form">
				<TextField page={page} id="name" name="name" label={page.t("console.name_label")} hint={page.t("console.name_hint")} errors={errors} autocomplete="username webauthn" value={name} />
				<button type="submit" class="button" id="sign-in">
					{page.t("console.sign_in_submit")}
				</button>
			</PostForm>
		</ConsoleLayout>
	);
}

export function ConsoleEnrollPage({ page, errors, script }: { page: PageContext; errors: readonly FieldError[]; script: string }) {
	return (
		<ConsoleLayout page={page} title={page.t("console.enroll_title")} script={script}>
			<ErrorSummary page={page} errors={errors} />
			<h1 id="page-title">{page.t("console.enroll_title")}</h1>
			<p class="lead">{page.t("console.enroll_lead")}</p>
			<PostForm page={page} action="/enroll" id="enroll-form">
				<TextField page={page} id="token" name="token" label={page.t("console.enroll_code_label")} hint={page.t("console.enroll_code_hint")} errors={errors} />
				<button type="submit" class="button" id="enroll">
					{page.t("console.enroll_submit")}
				</button>
			</PostForm>
		</ConsoleLayout>
	);
}

export function ConsoleHomePage({ page, operator }: { page: PageContext; operator: ConsoleOperatorView }) {
	return (
		<ConsoleLayout page={page} title={page.t("console.home_title")}>
			<h1 id="page-title">{page.t("console.home_title")}</h1>
			<p class="lead" id="signed-in-as">
				{page.t("console.signed_in_as", { name: operator.name, role: operator.role })}
			</p>
			<p id="scope">{operator.tenants === "all" ? page.t("console.tenants_all") : page.t("console.tenants_some", { tenants: operator.tenants.join(", ") })}</p>
			<PostForm page={page} action="/sign-out" id="sign-out-form">
				<button type="submit" class="button button-secondary" id="sign-out">
					{page.t("console.sign_out")}
				</button>
			</PostForm>
		</ConsoleLayout>
	);
}

/**
 * The enrollment page's module: moves the token from the URL fragment (which no server or log received) into the
 * form, and removes it from the address bar and history, so it is not left where the next person looks.
 */
export const CONSOLE_ENROLL_SCRIPT = `const match = /^#token=([0-9a-hjkmnp-tv-z]{52})$/.exec(location.hash);
if (match) {
	const field = document.getElementById("token");
	if (field) field.value = match[1];
	history.replaceState(null, "", location.pathname);
}
`;
