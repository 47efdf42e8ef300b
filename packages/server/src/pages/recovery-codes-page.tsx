import { ErrorSummary, PostForm } from "./components.js";
import { Layout } from "./layout.js";
import type { FieldError, PageContext } from "./view.js";

/**
 * Recovery codes, shown once (GitHub's pattern): copy, download as .txt (a same-origin route, so no data: link
 * and nothing inline for the CSP to allow), print, and an explicit "I have saved them" before going on.
 */
export function RecoveryCodesPage({ page, data }: { page: PageContext; data: { codes: readonly string[]; errors: readonly FieldError[] } }) {
	const { t } = page;
	return (
		<Layout page={page} title={t("codes.title")}>
			<ErrorSummary page={page} errors={data.errors} />
			<h1 id="page-title">{t("codes.title")}</h1>
			<p class="lead">{t("codes.lead")}</p>
			<h2 class="visually-hidden" id="codes-heading">
				{t("codes.list")}
			</h2>
			<ol class="codes" id="recovery-codes" aria-labelledby="codes-heading">
				{data.codes.map((code) => (
					<li>
						<code>{code}</code>
					</li>
				))}
			</ol>
			<div class="actions no-print">
				<button type="button" class="button button-secondary" data-copy="#recovery-codes" data-copied={t("app.copied")} hidden>
					{t("codes.copy")}
				</button>
				<a class="button button-secondary" href={`${page.base}/recovery-codes.txt`} download="recovery-codes.txt" id="download-codes">
					{t("codes.download")}
				</a>
				<button type="button" class="button button-secondary" data-print hidden>
					{t("codes.print")}
				</button>
			</div>
			<PostForm page={page} action="/recovery-codes/saved" id="saved-form" className="no-print">
				<div class={data.errors.some((e) => e.field === "saved") ? "field field-error choice" : "field choice"}>
					<input type="checkbox" id="saved" name="saved" value="yes" aria-describedby={data.errors.length > 0 ? "saved-error" : undefined} />
					<label for="saved">{t("codes.ack")}</label>
					{data.errors.some((e) => e.field === "saved") ? (
						<p class="error-message" id="saved-error">
							<span class="visually-hidden">{t("error.prefix")} </span>
							{t("error.ack_required")}
						</p>
					) : null}
				</div>
				<button type="submit" class="button" id="saved-submit">
					{t("codes.continue")}
				</button>
			</PostForm>
		</Layout>
	);
}

/** The downloadable file: plain text, the header in the user's language, one code a line. */
export function recoveryCodesText(header: string, codes: readonly string[]): string {
	return `${header}\r\n\r\n${codes.join("\r\n")}\r\n`;
}
