import type { MessageKey } from "./i18n.js";
import { renderDocument } from "./layout.js";
import { directionOf, type Locale, type Translate } from "./i18n.js";

/**
 * A page that ends here: a refused form (missing or foreign CSRF token), an expired or unknown interaction, a page
 * of another tenant's or interaction's URL. It knows nothing of the request (there may be none), so it names no
 * tenant or application and has no form.
 */
export function renderStopPage(options: { locale: Locale; t: Translate; title: MessageKey; body: MessageKey; stylesheet: string }): string {
	const { t } = options;
	return renderDocument(
		<html lang={options.locale} dir={directionOf(options.locale)}>
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<title>{t(options.title)}</title>
				<link rel="stylesheet" href={options.stylesheet} />
			</head>
			<body>
				<main class="page" id="main">
					<h1 id="page-title">{t(options.title)}</h1>
					<p class="lead" id="stop-body">
						{t(options.body)}
					</p>
				</main>
			</body>
		</html>,
	);
}
