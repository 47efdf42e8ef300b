import { CancelForm, ErrorSummary, PostForm, TextField } from "./components.js";
import { Layout } from "./layout.js";
import { EmailSendForm, type EmailOffer } from "./verify-page.js";
import type { FieldError, PageContext } from "./view.js";

export interface LostAccessPageData {
	/** The tenant's own words and link (settings.prompt.support_text / support_url), shown as text. */
	support: { text: string | null; url: string | null };
	/** "Ask for a reset" is offered (settings.prompt.recovery_requests and the service exists); "sent" once asked. */
	resetRequest: "offered" | "sent" | "off";
	errors: readonly FieldError[];
	/** A code by email to the address on record, when offered: another way in without the lost factor. */
	email?: EmailOffer | null;
}

/** Lost access: a recovery code first; failing that, the tenant's support, and optionally a recorded reset request. Nothing here bypasses the second factor. */
export function LostAccessPage({ page, data }: { page: PageContext; data: LostAccessPageData }) {
	const { t } = page;
	return (
		<Layout page={page} title={t("lost.title")}>
			<ErrorSummary page={page} errors={data.errors} />
			<h1 id="page-title">{t("lost.title")}</h1>
			<p class="lead">{t("lost.lead")}</p>
			<PostForm page={page} action="/recovery" id="recovery-form">
				<TextField page={page} id="recovery-code" name="code" label={t("lost.code_label")} hint={t("lost.code_hint")} errors={data.errors} autocomplete="off" />
				<button type="submit" class="button" id="recovery-submit">
					{t("lost.submit")}
				</button>
			</PostForm>
			{data.email === undefined || data.email === null ? null : <EmailSendForm page={page} email={data.email} id="email-send" />}
			<section id="help" aria-labelledby="help-heading">
				<h2 id="help-heading" class="subheading">
					{t("lost.help_heading")}
				</h2>
				<p class="support-text" id="support-text">
					{data.support.text ?? t("lost.help_default", { client: page.client.name })}
				</p>
				{data.support.url === null ? null : (
					<p>
						<a href={data.support.url} id="support-link" rel="noreferrer noopener" target="_blank">
							{t("lost.support_link")}
						</a>
					</p>
				)}
				{data.resetRequest === "sent" ? (
					<p class="notice" role="status" id="reset-requested">
						{t("lost.requested", { client: page.client.name })}
					</p>
				) : data.resetRequest === "offered" ? (
					<PostForm page={page} action="/request-reset" id="reset-form">
						<p class="hint">{t("lost.request_hint", { client: page.client.name })}</p>
						<button type="submit" class="button button-secondary" id="request-reset">
							{t("lost.request")}
						</button>
					</PostForm>
				) : null}
			</section>
			<p>
				<a href={page.base} id="back">
					{t("lost.back")}
				</a>
			</p>
			<CancelForm page={page} />
		</Layout>
	);
}
